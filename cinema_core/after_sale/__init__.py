"""After the sale: refunds, the tickets the door scans once, a buyer's purchases."""
