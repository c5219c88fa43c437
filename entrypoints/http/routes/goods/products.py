"""Routes of products: add one (admin), list them with what is left (anyone)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import attrs
from starlette.responses import Response

from cinema_core import Money
from cinema_core.goods.products import MAX_CODE, MAX_NAME, MAX_STOCK
from entrypoints.http.framework.answers import Answer, out
from entrypoints.http.framework.operations import Call, Operation, Reply
from entrypoints.http.framework.shapes import NOT_BLANK, days_from_now, field

SLUG = "^[a-z0-9]+(?:-[a-z0-9]+)*$"


@attrs.frozen
class CreateProduct:
    """Body of ``POST /products``: a product sold beside seats, with its stock if it has one."""

    code: str = field(
        min_length=1,
        max_length=MAX_CODE,
        pattern=SLUG,
        example="combo-pipoca",
        description="A slug: lower-case letters and digits, single hyphens between.",
    )
    name: str = field(
        min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Combo pipoca + refri"
    )
    price: Money = field(example="32.00", description="The price of one unit; 0.00 is free.")
    stock: int | None = field(
        default=None,
        minimum=0,
        maximum=MAX_STOCK,
        example=100,
        description="Units in stock; absent: no stock is kept (never sold out).",
    )


@attrs.frozen
class ChangeProduct:
    """Body of ``PATCH /products/{code}``: units to add to the stock, a new name or price; at
    least one, any other field refused."""

    CLOSED: ClassVar[bool] = True

    add: int | None = field(
        default=None,
        minimum=1,
        maximum=MAX_STOCK,
        example=50,
        description="Units added to what is left (never set: holds racing it keep theirs).",
    )
    name: str | None = field(
        default=None, min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, example="Combo grande"
    )
    price: Money | None = field(
        default=None, example="30.00", description="For holds made from now on; 0.00 is free."
    )


@attrs.frozen
class Product(Answer):
    """A product and what is left of it."""

    code: str = out(example="combo-pipoca")
    name: str = out(example="Combo pipoca + refri")
    price: Money = out(example="32.00")
    currency: str = out("price.currency", example="BRL")
    left: int | None = out(
        description="Units left for sale (held units are not); null: no stock is kept.",
        example=98,
    )
    created_at: datetime = out(example=days_from_now(0, hour=12))


@attrs.frozen
class ProductList(Answer):
    """Every product, by code."""

    items: list[Product] = out(lambda found: found)


def create_product(call: Call) -> Response:
    body: CreateProduct = call.body
    product = call.services.box.add_product(
        code=body.code, name=body.name, price=body.price, stock=body.stock
    )
    return Product.response(product, 201)


def change_product(call: Call) -> Response:
    body: ChangeProduct = call.body
    product = call.services.box.change_product(
        call.request.path_params["code"], add=body.add, name=body.name, price=body.price
    )
    return Product.response(product)


def list_products(call: Call) -> Response:
    return ProductList.response(call.services.box.products())


OPERATIONS = (
    Operation(
        "POST",
        "/products",
        create_product,
        "Add a product sold beside seats: a combo, a snack (admin)",
        {
            201: Reply("The new product.", Product),
            409: Reply("product_exists: a product has this code", "Error"),
        },
        tag="counter",
        access="admin",
        body=CreateProduct,
        description=(
            "A reservation carries products as products: {code: quantity}. Units are taken "
            "from the stock when the hold is made and given back when it is cancelled or "
            "lapses, or when its sale is refunded to the last seat; a hold asking for more "
            f"than is left is 409 product_sold_out (details.product). Stock 0–{MAX_STOCK}."
        ),
    ),
    Operation(
        "PATCH",
        "/products/{code}",
        change_product,
        "Restock, rename or reprice a product (admin)",
        {
            200: Reply("The product as changed, with what is left.", Product),
            404: Reply("not_found: no product has this code", "Error"),
        },
        tag="counter",
        access="admin",
        body=ChangeProduct,
        description=(
            "At least one of add, name and price. add puts units on top of what is left, in "
            "one statement under the product's row lock, so holds taking units at the same "
            "time are never undone (the stock is added to, never set); a product without "
            "stock cannot be restocked (422), and the stock never passes "
            f"{MAX_STOCK} (422). A new price is for holds made from then on: holds and sales "
            "keep the price they were made at."
        ),
    ),
    Operation(
        "GET",
        "/products",
        list_products,
        "The products with what is left of each",
        {200: Reply("Every product, by code.", ProductList)},
        tag="counter",
        description="Open to anyone, as the sessions are: what a buyer may add to a hold.",
    ),
)
