"""The values the five vendor documents (/work/shared/provider-docs/, "the seeds") list, machine-readable.

One entry per document (keyed by the panel's protocol `kind`), one list per category. Each category has
the label its rows carry in docs/provider-coverage.md: tests/providers/sandbox/test_documented_coverage.py checks
that every value here has a row there (a first cell holding the label and the value in backticks) and that
the sandbox can produce it. Adding a value here without simulating it, or without a row in the table,
fails that test (unless it is allow-listed there, with the reason).
"""

from __future__ import annotations

# kind -> (document file, section heading word in docs/provider-coverage.md)
DOCUMENTS = {
    "virtusim": "000_137f2adbff1a8219.txt",
    "smm_v2": "001_05464d9a05fe07c9.txt",
    "rajasms": "002_37c1ba149264256f.txt",
    "masking_http": "003_42abbbe2f38e1459.txt",
    "osimesa": "004_a223a75de78478d1.txt",
}

# kind -> {category label: [values]}
DOCUMENTED: dict[str, dict[str, list[str]]] = {
    "virtusim": {
        "action": ["services", "order", "set_status", "active_order", "status"],
        "parameter": ["api_key", "action", "country", "service", "operator", "id", "status"],
        "operator": ["telkomsel", "axis", "indosat", "any"],
        "set_status code": ["1", "2", "3", "4"],
        "services field": ["id", "name", "price", "tersedia", "category"],
        "order field": ["id", "number", "operator", "service_id", "service_name"],
        "active_order field": ["id", "status", "number", "otp", "sms", "service_name"],
        "status field": ["id", "status", "number", "sms", "service_name"],
        "status word": ["Pending", "Processing", "Error", "Success"],
        "active_order status": ["Ready", "Otp Diterima"],
        "otp text": ["Waiting SMS Code"],
        "message": [
            "API Key salah",
            "Permintaan tidak sesuai",
            "Layanan tidak ditemukan",
            "Jumlah pesan tidak sesuai",
            "Saldo tidak cukup",
            "Layanan tidak tersedia",
            "Pesanan tidak ditemukan",
            "Berhasil menunggu sms masuk",
            "Gagal Cancel",
        ],
    },
    "smm_v2": {
        "action": ["add", "status", "services", "balance"],
        "parameter": ["key", "Authorization: Bearer", "action", "service", "link", "quantity", "order"],
        "add field": ["success", "order"],
        "status field": ["charge", "start_count", "status", "remains", "currency"],
        "services field": ["service", "name", "category", "type", "rate", "min", "max", "refill", "cancel"],
        "balance field": ["balance", "currency"],
        "status word": [
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
    "rajasms": {
        "endpoint": [
            "api_sms_reguler_send_json.php",
            "api_sms_masking_send_json.php",
            "api_sms_otp_send_json.php",
            "api_sms_masking_balance_json.php",
            "api_sms_reguler_balance_json.php",
        ],
        "send parameter": ["apikey", "callbackurl", "number", "message", "sendingdatetime"],
        "send field": [
            "globalstatus",
            "globalstatustext",
            "number",
            "sendingid",
            "sendingstatus",
            "sendingstatustext",
            "price",
        ],
        "balance field": ["globalstatus", "globalstatustext", "Balance", "Expired"],
        "send globalstatus": ["10", "20", "30", "40", "50", "55"],
        "sendingstatus": ["10", "60", "70", "80", "90"],
        "balance globalstatus": ["10", "20", "30", "40", "35", "25"],
        "callback field": ["sendingid", "number", "deliverystatus", "deliverystatustext"],
        "deliverystatus": ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"],
    },
    "masking_http": {
        "endpoint": ["send.php", "send_post.php", "report.php", "balance.php", "reports_post.php", "inbox.php"],
        "parameter": ["username", "password", "hp", "message", "rpt", "start", "end"],
        "report code": ["22", "50", "20"],
        "report 50 reason": ["Saldo Habis", "Periode Habis", "No Charge"],
        "DLR field": ["session_id", "error_code", "error_message", "msisdn"],
        "DLR code": ["22", "50", "51", "52", "20"],
    },
    "osimesa": {
        "type": ["order", "status", "service"],
        "parameter": ["key", "sign", "type", "service", "data_no", "ref_id", "limit"],
        "order field": ["code", "data", "note", "price", "ref_id", "status", "product", "voucher", "message"],
        "order subfield": ["product.code", "product.type", "product.service"],
        "status field": ["created_at", "updated_at"],
        "service field": ["category", "multi", "name", "note", "code", "price", "cutoff", "status", "updated_at"],
        "service subfield": [
            "category.type",
            "category.main",
            "category.sub",
            "price.list.standar",
            "price.list.premium",
            "price.list.spesial",
            "price.current",
            "cutoff.start",
            "cutoff.end",
        ],
        "transaction status": ["waiting"],
        "service status": ["empty", "ready"],
        "code": ["200"],
        "message": [
            "Thank you for purchasing the product, please wait for the transaction to be processed.",
            "Success.",
        ],
    },
}
