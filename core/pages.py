"""One page of a list that grows with the data: a fixed number of rows, loaded in a fixed
number of queries (the count and the rows), whatever the table holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

PAGE_SIZE = 50
MAX_PAGE = 2**31 - 1  # beyond any page that exists; keeps OFFSET inside a bigint

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    count: int  # rows in the whole list
    number: int  # 1-based
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max((self.count + self.size - 1) // self.size, 1)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def page_number(text: str | None) -> int:
    """The page a query string asks for; anything that is not a sane page number is page 1."""
    return int(text) if text and text.isdigit() and 0 < int(text) <= MAX_PAGE else 1


def paginate(session: Session, stmt: Select, number: int, size: int = PAGE_SIZE) -> Page:
    """Page `number` of the ORM select `stmt` (which must order its rows totally)."""
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = session.scalars(stmt.limit(size).offset((number - 1) * size)).unique().all()
    return Page(list(items), count or 0, number, size)
