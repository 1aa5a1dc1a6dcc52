"""Search over documents: one box, diacritic- and case-insensitive, filters, saved searches (issue 6 item 7)."""
