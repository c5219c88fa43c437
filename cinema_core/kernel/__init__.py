"""What every capability speaks in: money, instants and the clock, pages of results, user ids."""
