"""Thư điện tử: incoming documents read from each agency's IMAP mailbox, landing as "chờ vào sổ"."""
