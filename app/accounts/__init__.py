"""Accounts and security domain: password policy, lockout, account lifecycle, audit log, maintenance notices."""
