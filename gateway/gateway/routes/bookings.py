"""Bookings: create (one or a series), read, list, cancel, check in."""

from __future__ import annotations

from ..errors import ApiError, invalid
from ..openapi import IDEMPOTENCY_KEY, Call
from ..policy import Action, Denied, check_booking_for
from ..schemas import (
    Booking, BookingCreate, BookingListQuery, BookingSeries, CancelQuery, Cancelled,
)
from . import api
from .common import ok, without_none

TAG = "bookings"


@api.post(
    "/bookings", summary="Book a desk, room or equipment (once, or recurring with rrule)",
    tag=TAG, action=Action.BOOK, body=BookingCreate, response=Booking | BookingSeries,
    status=201, headers=("Idempotency-Key",), errors=(409,),
    description=(
        "Give `start` and `end` (ISO 8601 with offset), or `date` and `period`. "
        "Without `rrule` the answer is the booking; with `rrule` it is the series: what "
        "was booked and what was skipped, with the reason. If nothing at all could be "
        "booked the answer is a 409 or 422 error."
    ),
)
async def create_booking(call: Call):
    body: BookingCreate = call.body
    actor = call.actor
    try:
        check_booking_for(actor, body.person_id)
    except Denied as denied:
        raise ApiError("forbidden", denied.reason, role=actor.role.value) from None
    if body.person_id is None and actor.person_id is None:
        raise ApiError("forbidden", "no_person")
    key = call.request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise invalid("Idempotency-Key", "bad_idempotency_key")
    result = await call.rpc(
        "create_booking", actor=actor.for_rpc(), request=body.to_request(), idempotency_key=key
    )
    if isinstance(result, dict) and "series_id" not in result and "booking" in result:
        booking = result["booking"]
        return ok(booking, 201, {"Location": f"/api/v1/bookings/{booking.get('id')}"})
    return ok(result, 201)


@api.get("/bookings", summary="List bookings (mine=1: the caller's)", tag=TAG,
         action=Action.READ_BOOKINGS, query=BookingListQuery, response=list[Booking])
async def list_bookings(call: Call):
    q: BookingListQuery = call.query
    person_id = q.person_id
    if q.mine:
        if call.actor.person_id is None:
            raise ApiError("forbidden", "no_person")
        person_id = call.actor.person_id
    result = await call.rpc(
        "list_bookings", actor=call.actor.for_rpc(),
        **without_none(
            person_id=person_id,
            start=q.from_.isoformat() if q.from_ else None,
            end=q.to.isoformat() if q.to else None,
            resource_id=q.resource_id,
            status=q.status,
        ),
    )
    return ok(result)


@api.get("/bookings/{id}", summary="One booking", tag=TAG, action=Action.READ_BOOKINGS,
         response=Booking)
async def get_booking(call: Call):
    result = await call.rpc("get_booking", actor=call.actor.for_rpc(),
                            booking_id=str(call.path["id"]))
    return ok(result)


@api.delete("/bookings/{id}",
            summary="Cancel a booking (scope=following: and the rest of its series)",
            tag=TAG, action=Action.CANCEL_BOOKING, query=CancelQuery, response=Cancelled,
            errors=(409,))
async def cancel_booking(call: Call):
    result = await call.rpc("cancel_booking", actor=call.actor.for_rpc(),
                            booking_id=str(call.path["id"]), scope=call.query.scope)
    return ok(result)


@api.post("/bookings/{id}/check-in", summary="Check in to a booking", tag=TAG,
          action=Action.CHECK_IN, response=Booking, errors=(409,))
async def check_in(call: Call):
    result = await call.rpc("check_in", actor=call.actor.for_rpc(),
                            booking_id=str(call.path["id"]))
    return ok(result)
