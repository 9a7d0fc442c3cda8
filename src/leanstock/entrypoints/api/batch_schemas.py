"""The batch of stock documents (`POST /stock/operations:batch`, `leanstock post`): each
document is the body of its single route with its `kind`; one result per document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    model_serializer,
)

from leanstock.domain.errors import InvalidInput
from leanstock.entrypoints.api.schemas import (
    CountIn,
    In,
    OperationOut,
    ReceiptIn,
    ScrapIn,
    ShipmentIn,
    TransferIn,
)
from leanstock.services.stock import batch


class ReceiptDocumentIn(ReceiptIn):
    kind: Literal["receipt"]


class ShipmentDocumentIn(ShipmentIn):
    kind: Literal["shipment"]


class TransferDocumentIn(TransferIn):
    kind: Literal["transfer"]


class CountDocumentIn(CountIn):
    kind: Literal["count"]


class ScrapDocumentIn(ScrapIn):
    kind: Literal["scrap"]


StockDocumentIn = Annotated[
    ReceiptDocumentIn | ShipmentDocumentIn | TransferDocumentIn | CountDocumentIn | ScrapDocumentIn,
    Field(discriminator="kind"),
]
_DOCUMENT: TypeAdapter[StockDocumentIn] = TypeAdapter(StockDocumentIn)


def stock_document(raw: Any) -> batch.Document:
    """One batch document (the body of its single route, with `kind`) as the service's
    document; `InvalidDocument` names every field at fault."""
    try:
        found = _DOCUMENT.validate_python(raw)
    except ValidationError as error:
        # Errors inside a document start their location with its kind; the field is the rest.
        tagless = [
            e if str(e.get("type", "")).startswith("union_tag") else {**e, "loc": e["loc"][1:]}
            for e in error.errors()
        ]
        raise InvalidDocument(field_errors(tagless)) from None
    match found:
        case ReceiptDocumentIn():
            return batch.Receipt(
                found.location,
                found.receipt_lines(),
                found.supplier,
                found.reference,
                found.occurred_at,
            )
        case ShipmentDocumentIn():
            return batch.Shipment(
                found.location,
                found.stock_lines(),
                found.customer,
                found.reference,
                found.occurred_at,
                found.reason,
            )
        case TransferDocumentIn():
            return batch.Transfer(
                found.source, found.target, found.stock_lines(), found.reference, found.occurred_at
            )
        case CountDocumentIn():
            return batch.Count(
                found.sku,
                found.location,
                found.counted,
                found.unit,
                found.lot,
                found.expires_on,
                found.reference,
                found.occurred_at,
                found.unit_cost,
                tuple(found.serials or ()),
            )
        case ScrapDocumentIn():
            return batch.Scrap(
                found.sku,
                found.location,
                found.quantity,
                found.reason,
                found.unit,
                found.lot,
                found.note,
                found.reference,
                found.occurred_at,
                tuple(found.serials or ()),
            )


class InvalidDocument(InvalidInput):
    """A batch document that does not parse: each field at fault and what is wrong with it."""

    title = "Invalid request"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__(detail, errors[0]["field"] if errors else None)
        self.errors = errors


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as the API's problem `errors`: the field and a message naming it."""
    found = []
    for e in errors:
        loc = tuple(e.get("loc", ()))
        parts = [str(p) for p in loc if p not in ("body", "query", "path")]
        field = ".".join(parts) or str(loc[0] if loc else "body")
        message = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            message = f"Malformed JSON: {e.get('ctx', {}).get('error', message)}"
            field = "body"
        elif e.get("type") == "extra_forbidden":
            message = f"Unknown field {field!r}."
        elif e.get("type") == "union_tag_not_found":
            field, message = (
                "kind",
                "kind is required: receipt, shipment, transfer, count or scrap.",
            )
        elif e.get("type") == "union_tag_invalid":
            field = "kind"
            message = (
                f"Unknown kind {e.get('ctx', {}).get('tag')!r}; use receipt, shipment, transfer, "
                "count or scrap."
            )
        found.append({"field": field, "message": message})
    return found


class BatchIn(In):
    documents: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=batch.MAX_DOCUMENTS,
        description="Up to 1,000 stock documents, each the body of its single route "
        "(`/stock/receipts`, `/stock/shipments`, `/stock/transfers`, `/stock/counts`, "
        "`/stock/scraps`) with `kind`: receipt, shipment, transfer, count or scrap.",
    )


class ProblemOut(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class DocumentResultOut(BaseModel):
    index: int = Field(description="The document's place in the batch, from 0.")
    status: int = Field(description="201 when posted; else the status of its problem.")
    operation: OperationOut | None = None
    problem: ProblemOut | None = None

    @model_serializer(mode="wrap")
    def _either(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The operation or the problem, whichever the document got, not both as null."""
        found: dict[str, Any] = handler(self)
        return {
            k: v for k, v in found.items() if v is not None or k not in {"operation", "problem"}
        }


class BatchOut(BaseModel):
    posted: int
    refused: int
    results: list[DocumentResultOut]
