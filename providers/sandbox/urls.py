"""Sandbox addresses (docs/upstream-contract.md, "Addresses"); included at `sandbox/`."""

from django.urls import path, re_path

from .views import masking_http, osimesa, rajasms, smm_v2, virtusim

app_name = "sandbox"

_ROUTE = r"(?P<route>reguler|masking|otp)"

urlpatterns = [
    path("virtusim/json.php", virtusim.endpoint, name="virtusim"),
    path("smm_v2/api", smm_v2.endpoint, name="smm_v2"),
    re_path(rf"^rajasms/sms/api_sms_{_ROUTE}_send_json\.php$", rajasms.send, name="rajasms_send"),
    re_path(rf"^rajasms/sms/api_sms_{_ROUTE}_balance_json\.php$", rajasms.balance, name="rajasms_balance"),
    path("masking_http/send.php", masking_http.send, name="masking_send"),
    path("masking_http/send_post.php", masking_http.send, name="masking_send_post"),
    path("masking_http/report.php", masking_http.report, name="masking_report"),
    path("masking_http/balance.php", masking_http.balance, name="masking_balance"),
    path("masking_http/reports_post.php", masking_http.reports_post, name="masking_reports_post"),
    path("masking_http/inbox.php", masking_http.inbox, name="masking_inbox"),
    path("osimesa/api/prepaid", osimesa.endpoint, name="osimesa"),
]
