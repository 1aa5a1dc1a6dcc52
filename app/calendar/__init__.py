"""Weekly work calendars (lịch công tác) of the agency leadership and of each department."""
