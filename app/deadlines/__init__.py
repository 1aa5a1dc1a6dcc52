"""Working days: weekends, Vietnamese public holidays (Tết included) and days off agencies add as data."""
