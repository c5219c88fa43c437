"""The admin screen's webhooks, in Brazilian Portuguese and in English: a webhook registered
from the form shows its secret once (copied to the clipboard, gone after a reload), is listed
with its events and state, gets a new secret, shows its delivery log with the sale made meanwhile,
and is deleted; no serious axe finding with the section in use."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Dialog, expect

from tests import services
from tests.flow.browser.conftest import NewContext, OpenPage
from tests.flow.browser.site import Site
from tests.flow.browser.test_accessibility import violations

SECRET = re.compile(r"^whsec_[A-Za-z0-9_-]{40,}$")


def accept(asked: list[str]) -> Callable[[Dialog], None]:
    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    return answer


def test_the_admin_manages_a_webhook_in_portuguese(
    memory_site: Site, new_context: NewContext, open_page: OpenPage, axe_source: str
) -> None:
    context = new_context(locale="pt-BR")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = open_page(memory_site.page("/admin", "boss", "admin"), context)
    url = f"https://hooks.example.com/{services.unique('pt')}"
    page.get_by_role("button", name="Cadastrar webhook").click()
    expect(page.locator("#webhook-problem")).to_contain_text("Digite a URL completa do receptor")
    page.get_by_label("URL do receptor").fill(url)
    page.get_by_role("button", name="Cadastrar webhook").click()
    expect(page.locator("#webhook-problem")).to_have_text("Escolha ao menos um tipo de evento.")
    page.get_by_label("payment.confirmed").check()
    page.get_by_label("sale.refunded").check()
    page.get_by_role("button", name="Cadastrar webhook").click()

    expect(page.locator("#webhook-info")).to_have_text(f"Webhook de {url} cadastrado.")
    expect(page.locator("#secret-warning")).to_contain_text("só é mostrado esta vez")
    secret = page.get_by_label(f"Segredo de assinatura de {url}")
    expect(secret).to_have_value(SECRET)
    first = secret.input_value()
    page.get_by_role("button", name="Copiar").click()
    expect(page.locator("#secret-copied")).to_have_text("Copiado.")
    assert page.evaluate("navigator.clipboard.readText()") == first

    row = page.locator("#webhooks tbody tr", has_text=url)
    expect(row.locator('[data-figure="events"]')).to_have_text("payment.confirmed, sale.refunded")
    expect(row.locator('[data-figure="state"]')).to_have_text("Ativo")
    assert violations(page, axe_source) == []

    asked: list[str] = []
    page.on("dialog", accept(asked))
    row.get_by_role("button", name=f"Novo segredo: {url}").click()
    expect(page.locator("#webhooks-info")).to_have_text(f"{url} tem um novo segredo.")
    expect(secret).not_to_have_value(first)
    expect(secret).to_have_value(SECRET)
    assert asked[-1].startswith(f"Dar um novo segredo a {url}?")

    # Far off: it must not push other tests' sessions out of the watched lists.
    later = datetime.now(UTC) + timedelta(days=300)
    memory_site.buy(services.unique("ana"), memory_site.new_session(starts_at=later), ["A1"])
    row.get_by_role("button", name=f"Registro de entregas: {url}").click()
    expect(page.locator("#deliveries-title")).to_have_text(f"Registro de entregas de {url}")
    page.get_by_role("button", name="Atualizar o registro").click()
    delivery = page.locator("#deliveries tbody tr").first
    expect(delivery).to_contain_text("payment.confirmed", timeout=10000)
    expect(delivery.locator('[data-figure="state"]')).to_have_text("Pendente")
    assert violations(page, axe_source) == []

    row.get_by_role("button", name=f"Excluir: {url}").click()
    expect(page.locator("#webhooks-info")).to_have_text(f"O webhook de {url} foi excluído.")
    expect(page.locator("#webhooks tbody tr", has_text=url)).to_have_count(0)
    expect(page.locator("#deliveries-panel")).to_be_hidden()
    assert asked[-1].startswith(f"Excluir o webhook de {url}")

    page.reload()
    expect(page.locator("#webhook-secret")).to_be_hidden()


def test_the_admin_registers_a_webhook_for_every_event_in_english(
    memory_site: Site, open_page: OpenPage
) -> None:
    page = open_page(memory_site.page("/admin", "boss", "admin"))
    url = f"https://hooks.example.com/{services.unique('en')}"
    page.get_by_label("Receiver URL").fill(url)
    page.get_by_label("Every event type").check()
    expect(page.get_by_label("payment.confirmed")).to_be_disabled()
    page.get_by_role("button", name="Register webhook").click()
    expect(page.locator("#secret-warning")).to_contain_text("it is shown only this once")
    expect(page.get_by_label(f"Signing secret of {url}")).to_have_value(SECRET)
    row = page.locator("#webhooks tbody tr", has_text=url)
    expect(row.locator('[data-figure="events"]')).to_have_text("every event")
    expect(row.locator('[data-figure="state"]')).to_have_text("Active")
    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=f"Delete: {url}").click()
    expect(page.locator("#webhooks-info")).to_have_text(f"The webhook for {url} was deleted.")
