"""The counter: staff selling at a till in shifts, each with its cash float and statement."""
