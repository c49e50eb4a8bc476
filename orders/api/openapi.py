"""A machine-readable description (OpenAPI 3.0) of the five downstream protocols, served at
`GET /api/openapi.json` (url name `api:openapi`). Hand-written: the shapes are the vendors', not ours."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .common import json_reply

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": _obj(properties, required)}},
    }


def _json(schema: dict[str, Any], description: str = "Reply") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_LIMITS = (
    "Rate limit: API_RATE_LIMIT requests per key per API_RATE_WINDOW seconds (default 120 per 60 s); beyond it the "
    "reply is HTTP 429 in the protocol's own error form. Bodies over 1 MB get HTTP 413 in the protocol's form; "
    "an internal failure gets HTTP 503 in the protocol's form."
)

_RETRIES = (
    "Order-creating calls (VirtuSIM order, SMM v2 add, Osimesa order, RajaSMS send) accept an `Idempotency-Key` "
    "header (1-255 visible ASCII characters, no space, quote or backslash): a retry with the same key and the same "
    "request within 24 h gets the first reply again, marked `Idempotent-Replayed: true`, and is charged once; "
    "the same key with a different request is refused with HTTP 409, a malformed key with HTTP 400, both in the "
    "protocol's error form. Refused orders are not kept, so their key may be retried. Osimesa also takes the key "
    "as `client_ref`, RajaSMS as `clientref`. A key may be limited to IP addresses and ranges set on the API page; "
    "calls from elsewhere get HTTP 403 in the protocol's form (RajaSMS globalstatus 40)."
)
_IDEMPOTENCY_KEY = {"$ref": "#/components/parameters/IdempotencyKey"}


def _replayable(response: dict[str, Any]) -> dict[str, Any]:
    """A reply that a retry with the same Idempotency-Key gets again, with the replay header."""
    return {**response, "headers": {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}}


VIRTUSIM_PARAMS = {
    "api_key": {**_STR, "description": "Your API key."},
    "action": {**_STR, "enum": ["services", "order", "set_status", "active_order", "status"]},
    "service": {**_STR, "description": "order: service id from `services`."},
    "operator": {**_STR, "enum": ["any", "telkomsel", "axis", "indosat"], "default": "any"},
    "id": {**_STR, "description": "set_status, status: order id."},
    "status": {
        **_STR,
        "enum": ["1", "2", "3", "4"],
        "description": "set_status: 1 ready (sent on to the provider), 2 cancel (refunds), 3 resend, 4 done.",
    },
    "country": {**_STR, "description": "Accepted and ignored (`indo`)."},
}

_MASKING_LOGIN = {
    "username": {**_STR, "description": "Your username on the panel."},
    "password": {**_STR, "description": "Your API key (not your login password)."},
}
_MASKING_FAILURES = (
    "Failures are plain text with HTTP 200, as the gateway prints them: Username atau Password salah (wrong or "
    "missing username/key), Nomor tujuan tidak valid, Pesan tidak boleh kosong, Pesan tidak valid (maksimal 480 "
    "karakter), Saldo tidak cukup, Layanan tidak tersedia, Data tidak ditemukan, Format tanggal salah, Rentang "
    "tanggal maksimal 92 hari; HTTP 429/413/405/503 keep their status with a plain-text reason."
)
_MASKING_SCRIPTS: dict[str, tuple[str, str, dict[str, Any], list[str], str]] = {
    # script: (operationId stem, summary, fields beyond the login, required, reply)
    "send": (
        "maskingSend",
        "Send one SMS (GET, as the gateway's send.php; POST works too)",
        {
            "hp": {**_STR, "description": "Destination, 62-prefixed (0812... and +62812... are accepted too)."},
            "message": {**_STR, "maxLength": 480, "description": "Billed per 160 characters: 161 are 2 SMS."},
        },
        ["hp", "message"],
        "The report id alone (e.g. `18319370`) when accepted, otherwise the reason.",
    ),
    "send_post": (
        "maskingSendPost",
        "Send one SMS (POST form, as the gateway's send_post.php; GET works too)",
        {
            "hp": {**_STR, "description": "Destination, 62-prefixed."},
            "message": {**_STR, "maxLength": 480, "description": "Billed per 160 characters."},
        },
        ["hp", "message"],
        "The report id alone when accepted, otherwise the reason.",
    ),
    "report": (
        "maskingReport",
        "Delivery state of one SMS by its report id (yours only: the login is needed here too)",
        {"rpt": {**_STR, "description": "The report id send.php answered (also a RajaSMS `sendingid`)."}},
        ["rpt"],
        "`22` delivered, `20` pending, `50, No Charge` not sent and not charged (refunded), `50` failed after "
        "sending (charged), `Data tidak ditemukan` for an id that is not yours.",
    ),
    "balance": (
        "maskingBalance",
        "Your balance",
        {},
        [],
        "`<balance>,<expiry>`, e.g. `150000,2099/12/31-23:59:59` (the panel's balance does not expire).",
    ),
    "reports_post": (
        "maskingReportsPost",
        "Your SMS sent between two dates (WIB, both included, at most 92 days), as CSV",
        {
            "start": {**_STR, "pattern": "^[0-9]{2}-[0-9]{2}-[0-9]{4}$", "description": "dd-mm-yyyy"},
            "end": {**_STR, "pattern": "^[0-9]{2}-[0-9]{2}-[0-9]{4}$", "description": "dd-mm-yyyy"},
            "download_report_button": {**_STR, "description": "Sent by the gateway's example form; ignored."},
        },
        ["start", "end"],
        "text/csv: id, tanggal (dd-mm-yyyy hh:mm:ss WIB), msisdn, pesan, jumlah_sms, status (22/20/50), "
        "keterangan (Delivered, Pending, No Charge, Failed).",
    ),
    "inbox": (
        "maskingInbox",
        "Incoming SMS (the panel has none for resellers: always the empty list)",
        {},
        [],
        "text/csv with the header row only: id, tanggal, pengirim, pesan.",
    ),
}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": _STR}}}


def _masking_path(script: str) -> dict[str, Any]:
    stem, summary, fields, required, reply = _MASKING_SCRIPTS[script]
    properties = {**_MASKING_LOGIN, **fields}
    needed = ["username", "password", *required]
    content_type = "text/csv" if script in ("reports_post", "inbox") else "text/plain"
    responses = {
        "200": {"description": reply, "content": {content_type: {"schema": _STR}}},
        "429": _text("Rate limited"),
    }
    if content_type != "text/plain":
        responses["200"]["content"]["text/plain"] = {"schema": _STR}  # a refusal
    callbacks = {}
    if script in ("send", "send_post"):
        # The gateway's "Callable API DLR": to the one URL the reseller saves on their API page (per user).
        callbacks = {
            "deliveryReport": {
                "https://your-saved-address.example/delivreq.php": {
                    "get": {
                        "description": (
                            "One GET per SMS, to the address saved on your API page when the SMS was sent (its own "
                            "query string kept). error_code: 22 Delivered, 20 Pending, 52 No Charge (not sent, "
                            "refunded), 50 Failed (sent and charged, not delivered). Retried with backoff."
                        ),
                        "parameters": [
                            {"name": name, "in": "query", "required": True, "schema": schema}
                            for name, schema in {
                                "session_id": {**_STR, "description": "The report id send.php answered."},
                                "error_code": {**_STR, "enum": ["22", "20", "52", "50"]},
                                "error_message": {**_STR, "enum": ["Delivered", "Pending", "No Charge", "Failed"]},
                                "msisdn": _STR,
                            }.items()
                        ],
                        "responses": {"200": {"description": "Any 2xx acknowledges the report."}},
                    }
                }
            }
        }
    operations: dict[str, Any] = {
        "summary": summary,
        "description": _MASKING_FAILURES,
        "get": {
            "operationId": f"{stem}Get",
            "tags": ["Masking HTTP"],
            "parameters": [
                {"name": name, "in": "query", "required": name in needed, "schema": schema}
                for name, schema in properties.items()
            ],
            "responses": responses,
        },
        "post": {
            "operationId": f"{stem}Post",
            "tags": ["Masking HTTP"],
            "requestBody": _form(properties, needed),
            "responses": responses,
        },
    }
    if callbacks:
        for method in ("get", "post"):
            operations[method]["callbacks"] = callbacks
    return operations


_ROUTE_PARAM = {
    "name": "route",
    "in": "path",
    "required": True,
    "schema": {**_STR, "enum": ["reguler", "masking", "otp"]},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Reseller panel downstream API",
        "version": "1.0",
        "description": (
            "The panel speaks five upstream protocols downstream, so an existing shop or bot works by changing "
            "only its base URL and key. Ids are the panel's service and order ids; prices are your own (your "
            "tier). Human-readable guide with curl examples: docs/api.md. " + _LIMITS + " " + _RETRIES
        ),
    },
    "paths": {
        "/api/json.php": {
            "summary": "VirtuSIM-compatible OTP numbers",
            "description": (
                "GET or POST. Every reply is `{status, data}`; failures carry `data.msg` (set_status: a top-level "
                "`msg` too) with the vendor's Indonesian texts: API Key salah, Permintaan tidak sesuai, Layanan "
                "tidak ditemukan, Layanan tidak tersedia, Saldo tidak cukup, Pesanan tidak ditemukan, Gagal Cancel. "
                "`status` says only Pending, Processing, Error or Success (`active_order`: Ready, Otp Diterima)."
            ),
            "get": {
                "operationId": "virtusimGet",
                "tags": ["VirtuSIM"],
                "parameters": [
                    {"name": name, "in": "query", "required": name in ("api_key", "action"), "schema": schema}
                    for name, schema in VIRTUSIM_PARAMS.items()
                ]
                + [_IDEMPOTENCY_KEY],
                "responses": {
                    "200": _replayable(_json(_ref("VirtusimReply"))),
                    **{code: _json(_ref("VirtusimReply")) for code in ("400", "403", "409", "429")},
                },
            },
            "post": {
                "operationId": "virtusimPost",
                "tags": ["VirtuSIM"],
                "requestBody": _form(VIRTUSIM_PARAMS, ["api_key", "action"]),
                "parameters": [_IDEMPOTENCY_KEY],
                "responses": {
                    "200": _replayable(_json(_ref("VirtusimReply"))),
                    **{code: _json(_ref("VirtusimReply")) for code in ("400", "403", "409", "429")},
                },
            },
        },
        "/api/v2": {
            "summary": "SMM panel API v2-compatible social-media services (no trailing slash)",
            "post": {
                "operationId": "smmV2",
                "tags": ["SMM v2"],
                "description": (
                    "Form `key` + `action`, or `Authorization: Bearer <key>`. Failures are HTTP 200 "
                    '`{"error": "..."}`: Invalid API key, Incorrect request, Incorrect service ID, Incorrect '
                    "order ID, Incorrect link, Quantity less than minimal N, Quantity more than maximal N, Not "
                    "enough funds on balance. Replies by action: services -> SmmService[]; add -> {success, order}; "
                    "status -> SmmStatus (or, with `orders`, an object keyed by id); balance -> {balance, "
                    "currency}; refill -> {refill} (with `orders`: [{order, refill}]); refill_status -> {status} "
                    "(with `refills`: [{refill, status}]); cancel -> [{order, cancel}]."
                ),
                "security": [{"bearer": []}, {}],
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": _form(
                    {
                        "key": _STR,
                        "action": {
                            **_STR,
                            "enum": ["services", "add", "status", "balance", "refill", "refill_status", "cancel"],
                        },
                        "service": {**_STR, "description": "add"},
                        "link": {**_STR, "description": "add: https://..."},
                        "quantity": {**_STR, "pattern": "^[0-9]+$", "description": "add: within min..max"},
                        "order": {**_STR, "description": "status, refill, cancel: one order id"},
                        "orders": {**_STR, "description": "status, refill, cancel: up to 100 ids, comma separated"},
                        "refill": {**_STR, "description": "refill_status: refill id"},
                        "refills": {**_STR, "description": "refill_status: refill ids, comma separated"},
                    },
                    ["action"],
                ),
                "responses": {
                    "200": _replayable(
                        _json(
                            {
                                "oneOf": [
                                    {"type": "array", "items": _ref("SmmService")},
                                    _ref("SmmStatus"),
                                    _obj({"success": _BOOL, "order": _STR}, ["order"]),
                                    _obj({"balance": _STR, "currency": _STR}, ["balance"]),
                                    {"type": "object", "additionalProperties": _ref("SmmStatus")},
                                    {"type": "array", "items": {"type": "object"}},
                                    _ref("SmmError"),
                                ]
                            }
                        )
                    ),
                    "429": _json(_ref("SmmError"), "Rate limited"),
                    "400": _json(_ref("SmmError"), "Invalid Idempotency-Key"),
                    "403": _json(_ref("SmmError"), "IP address is not allowed for this API key"),
                    "409": _json(_ref("SmmError"), "Idempotency-Key used for a different request, or still running"),
                },
            },
        },
        "/api/prepaid": {
            "summary": "Osimesa-compatible prepaid products (pulsa, data, vouchers)",
            "post": {
                "operationId": "osimesa",
                "tags": ["Osimesa"],
                "description": (
                    "`sign` = md5(user id + key), both shown on your API page. The HTTP status equals the body's "
                    "`code`: 200, 400 (Product not found., Product is out of stock., Product is in cutoff time "
                    "(HH:MM - HH:MM WIB)., Invalid destination number., Insufficient balance., Transaction with the "
                    'same product and destination number is still being processed. (a `multi` "0" product), The '
                    "service and data_no parameters are required., The limit must be between 1 and 15., Invalid "
                    "type.), 401 (Invalid API key or signature.), 404 (Transaction not found.), 429. `service` "
                    "items: `price.current` is your price; `price.list` (standar, premium, spesial) the price of "
                    "the tier the operator shows at each level, else yours; `multi`, `note`, `category.type` and "
                    "`updated_at` as the upstream gives them."
                ),
                "requestBody": _form(
                    {
                        "key": _STR,
                        "sign": {**_STR, "description": "md5(user id + key), hex"},
                        "type": {**_STR, "enum": ["service", "order", "status"]},
                        "service": {**_STR, "description": "order: product code"},
                        "data_no": {**_STR, "description": "order: destination number"},
                        "ref_id": {**_STR, "description": "status: one transaction"},
                        "client_ref": {
                            **_STR,
                            "maxLength": 255,
                            "description": "order, optional: your own reference; acts as the Idempotency-Key",
                        },
                        "limit": {**_STR, "description": "status: 1-15 latest transactions (default 15)"},
                    },
                    ["key", "sign", "type"],
                ),
                "parameters": [_IDEMPOTENCY_KEY],
                "responses": {
                    "200": _replayable(_json(_ref("OsimesaReply"))),
                    "400": _json(_ref("OsimesaReply")),
                    "401": _json(_ref("OsimesaReply")),
                    "403": _json(_ref("OsimesaReply")),
                    "409": _json(_ref("OsimesaReply")),
                    "404": _json(_ref("OsimesaReply")),
                    "429": _json(_ref("OsimesaReply")),
                },
            },
        },
        "/sms/api_sms_{route}_send_json.php": {
            "summary": "RajaSMS-compatible SMS sending (JSON)",
            "parameters": [_ROUTE_PARAM],
            "post": {
                "operationId": "rajasmsSend",
                "tags": ["RajaSMS"],
                "description": (
                    "At most 1,000 packets, 480 characters a message. globalstatus: 10 Success, 20 Json Post "
                    "Error, 30 ApiKey not register, 35 Request Limit (HTTP 429), 40 Ip address not register (HTTP "
                    "403), 55 Maximum Data. sendingstatus "
                    "per packet: 10 success, 60 Invalid Number, 70 Invalid Message, 80 Minimum Balance, 90 System "
                    "Error. `price` = your price per SMS x SMS parts. Delivery reports are POSTed to `callbackurl` "
                    "as CallbackReport (one per number; retried with backoff)."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("RajasmsSend")}},
                },
                "parameters": [_IDEMPOTENCY_KEY],
                "responses": {
                    "200": _replayable(_json(_ref("RajasmsSendReply"))),
                    **{code: _json(_ref("RajasmsSendReply")) for code in ("400", "403", "409", "429")},
                },
                "callbacks": {
                    "deliveryReport": {
                        "{$request.body#/callbackurl}": {
                            "post": {
                                "requestBody": {
                                    "required": True,
                                    "content": {"application/json": {"schema": _ref("RajasmsCallback")}},
                                },
                                "responses": {"200": {"description": "Any 2xx acknowledges the report."}},
                            }
                        }
                    }
                },
            },
        },
        "/sms/api_sms_{route}_balance_json.php": {
            "summary": "RajaSMS-compatible balance (all routes share your one balance)",
            "parameters": [_ROUTE_PARAM],
            "post": {
                "operationId": "rajasmsBalance",
                "tags": ["RajaSMS"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _obj({"apikey": _STR}, ["apikey"])}},
                },
                "responses": {
                    "200": _json(_ref("RajasmsBalanceReply")),
                    "403": _json(_ref("RajasmsBalanceReply")),
                    "429": _json(_ref("RajasmsBalanceReply")),
                },
            },
        },
        **{f"/api/masking/{script}.php": _masking_path(script) for script in _MASKING_SCRIPTS},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "SMM v2 only"}},
        "parameters": {
            "IdempotencyKey": {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": (
                    "Order-creating calls only (elsewhere ignored). The same key and request within 24 h: the "
                    "first reply again, charged once. The same key with another request: HTTP 409. Also accepted "
                    'in the quoted form `"key"`.'
                ),
                "schema": {**_STR, "minLength": 1, "maxLength": 255, "pattern": "^[!#-\\[\\]-~]+$"},
            }
        },
        "headers": {
            "IdempotentReplayed": {
                "description": "`true` when this reply is the stored reply to an earlier call with the same key.",
                "schema": {**_STR, "enum": ["true"]},
            }
        },
        "schemas": {
            "VirtusimReply": _obj(
                {
                    "status": _BOOL,
                    "msg": {**_STR, "description": "set_status only"},
                    "data": {
                        "oneOf": [
                            {"type": "array", "items": {"type": "object"}},
                            _obj(
                                {
                                    "id": _STR,
                                    "number": _STR,
                                    "status": {
                                        **_STR,
                                        "enum": [
                                            "Pending",
                                            "Processing",
                                            "Success",
                                            "Error",
                                            "Ready",
                                            "Otp Diterima",
                                        ],
                                    },
                                    "otp": _STR,
                                    "sms": _STR,
                                    "operator": _STR,
                                    "service_id": _STR,
                                    "service_name": _STR,
                                    "msg": _STR,
                                }
                            ),
                        ]
                    },
                },
                ["status"],
                example={
                    "status": True,
                    "data": {
                        "id": "1042",
                        "number": "6281234567890",
                        "operator": "any",
                        "service_id": "12",
                        "service_name": "WhatsApp",
                    },
                },
            ),
            "SmmService": _obj(
                {
                    "service": _STR,
                    "name": _STR,
                    "category": _STR,
                    "type": {**_STR, "description": "the product type as the provider lists it (Default...)"},
                    "rate": {**_STR, "description": "your price per 1000"},
                    "min": _STR,
                    "max": _STR,
                    "refill": _BOOL,
                    "cancel": _BOOL,
                }
            ),
            "SmmStatus": _obj(
                {
                    "charge": _STR,
                    "start_count": _STR,
                    "status": {
                        **_STR,
                        "enum": [
                            "Pending",
                            "Processing",
                            "In progress",
                            "Completed",
                            "Partial",
                            "Canceled",
                            "Error",
                            "Refunded",
                        ],
                    },
                    "remains": _STR,
                    "currency": _STR,
                },
                example={
                    "charge": "15000",
                    "start_count": "1000",
                    "status": "Completed",
                    "remains": "0",
                    "currency": "IDR",
                },
            ),
            "SmmError": _obj({"error": _STR}, ["error"], example={"error": "Incorrect order ID"}),
            "OsimesaReply": _obj(
                {"code": _INT, "status": _BOOL, "message": _STR, "data": {"nullable": True}},
                ["code", "status", "message"],
            ),
            "RajasmsSend": _obj(
                {
                    "apikey": _STR,
                    "callbackurl": {**_STR, "format": "uri"},
                    "datapacket": {
                        "type": "array",
                        "maxItems": 1000,
                        "items": _obj(
                            {
                                "number": {**_STR, "description": "6281xx, 081xx or +6281xx"},
                                "message": {**_STR, "maxLength": 480},
                                "sendingdatetime": {**_STR, "description": "yyyy-mm-dd hh:mm:ss (WIB) or empty"},
                            },
                            ["number", "message"],
                        ),
                    },
                    "clientref": {
                        **_STR,
                        "maxLength": 255,
                        "description": "optional: your own reference for the send; acts as the Idempotency-Key",
                    },
                },
                ["apikey", "datapacket"],
            ),
            "RajasmsSendReply": _obj(
                {
                    "sending_respon": {
                        "type": "array",
                        "items": _obj(
                            {
                                "globalstatus": _INT,
                                "globalstatustext": _STR,
                                "datapacket": {
                                    "type": "array",
                                    "items": _obj(
                                        {
                                            "packet": _obj(
                                                {
                                                    "number": _STR,
                                                    "sendingid": _INT,
                                                    "sendingstatus": _INT,
                                                    "sendingstatustext": _STR,
                                                    "price": _NUM,
                                                }
                                            )
                                        }
                                    ),
                                },
                            }
                        ),
                    }
                }
            ),
            "RajasmsBalanceReply": _obj(
                {
                    "balance_respon": {
                        "type": "array",
                        "items": _obj(
                            {
                                "globalstatus": _INT,
                                "globalstatustext": _STR,
                                "Balance": _NUM,
                                "Expired": {**_STR, "format": "date", "description": "always 2099-12-31: no expiry"},
                            }
                        ),
                    }
                }
            ),
            "RajasmsCallback": _obj(
                {
                    "sendingid": _INT,
                    "number": _STR,
                    "deliverystatus": {**_INT, "minimum": 1, "maximum": 10},
                    "deliverystatustext": _STR,
                },
                ["sendingid", "number", "deliverystatus", "deliverystatustext"],
            ),
        },
    },
}


def spec(base_url: str | None = None) -> dict[str, Any]:
    document = deepcopy(SPEC)
    document["servers"] = [{"url": (base_url or settings.PANEL_PUBLIC_URL).rstrip("/")}]
    return document


@require_GET
def view(request: HttpRequest) -> HttpResponse:
    response = json_reply(spec())
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    return response
