"""Downstream protocol endpoints (ARCHITECTURE: Downstream protocols), included at the site root.

Url names live in the `api` namespace: api:virtusim, api:smm_v2, api:osimesa, api:rajasms_send,
api:rajasms_balance (kwarg `route`), api:masking_<file> (send, send_post, report, balance, reports_post,
inbox), api:openapi.
"""

from django.urls import path, re_path

from . import masking, openapi, osimesa, rajasms, smm_v2, virtusim

app_name = "api"

_ROUTE = r"(?P<route>reguler|masking|otp)"

urlpatterns = [
    path("api/json.php", virtusim.endpoint, name="virtusim"),
    path("api/v2", smm_v2.endpoint, name="smm_v2"),  # no trailing slash, as SMM v2 clients call it
    path("api/prepaid", osimesa.endpoint, name="osimesa"),
    re_path(rf"^sms/api_sms_{_ROUTE}_send_json\.php$", rajasms.send, name="rajasms_send"),
    re_path(rf"^sms/api_sms_{_ROUTE}_balance_json\.php$", rajasms.balance, name="rajasms_balance"),
    # The masking HTTP gateway's own file names, so its clients change only their base URL.
    path("api/masking/send.php", masking.send, name="masking_send"),
    path("api/masking/send_post.php", masking.send_post, name="masking_send_post"),
    path("api/masking/report.php", masking.report, name="masking_report"),
    path("api/masking/balance.php", masking.balance, name="masking_balance"),
    path("api/masking/reports_post.php", masking.reports_post, name="masking_reports_post"),
    path("api/masking/inbox.php", masking.inbox, name="masking_inbox"),
    path("api/openapi.json", openapi.view, name="openapi"),
    # Anything else under a protocol's prefix is answered in that protocol's error form (HTTP 404), not
    # with the site's HTML page: a client that mistypes a path must still be able to read the answer.
    re_path(r"^sms/", rajasms.not_found, name="rajasms_not_found"),
    re_path(r"^api/v2/", smm_v2.not_found, name="smm_v2_not_found"),
    re_path(r"^api/prepaid/", osimesa.not_found, name="osimesa_not_found"),
    re_path(r"^api/masking/", masking.not_found, name="masking_not_found"),
    re_path(r"^api/", virtusim.not_found, name="api_not_found"),
]
