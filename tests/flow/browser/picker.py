"""What a buyer does on the seat picker, as Playwright steps: the same handles
(``data-seat``, ``data-status``, ``data-action``) a person's clicks land on."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


class SeatPicker:
    def __init__(self, page: Page):
        self.page = page
        self.problem = page.locator("#problem")
        self.info = page.locator("#info")
        self.countdown = page.locator("#countdown")
        self.total = page.locator("#total")

    def seat(self, label: str) -> Locator:
        return self.page.locator(f'[data-seat="{label}"]')

    def action(self, name: str) -> Locator:
        return self.page.locator(f'[data-action="{name}"]')

    def wait_live(self) -> SeatPicker:
        """Until the seat stream's snapshot has drawn the map."""
        expect(self.page.locator("#live")).to_have_attribute("data-live", "on")
        expect(self.page.locator("[data-seat]").first).to_be_visible()
        return self

    def choose(self, *labels: str) -> None:
        for label in labels:
            self.seat(label).click()
            expect(self.seat(label)).to_have_attribute("data-state", "chosen")

    def hold(self) -> None:
        self.action("hold").click()

    def hold_seats(self, *labels: str) -> None:
        """Choose the seats, hold them, and wait until the page draws them as this buyer's."""
        self.choose(*labels)
        self.hold()
        self.expect_held(*labels)

    def expect_held(self, *labels: str) -> None:
        expect(self.page.locator("#hold-panel")).to_be_visible()
        for label in labels:
            expect(self.seat(label)).to_have_attribute("data-state", "mine")

    def pay(self) -> None:
        self.action("pay").click()
        expect(self.page.locator("#tickets-panel")).to_be_visible()

    def cancel(self) -> None:
        self.action("cancel").click()
