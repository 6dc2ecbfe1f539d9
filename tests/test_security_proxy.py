"""Issue 21, item 7: X-Forwarded-For (and -Proto) believed only from a configured proxy."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts.limits import client_ip
from accounts.middleware import ProxyHeadersMiddleware
from patients.models import AccessEvent
from tmrclinic import settings as clinic_settings

PROXY = "10.0.0.10"


@pytest.fixture
def behind_proxy(settings):
    settings.CLINIC_TRUST_X_FORWARDED_FOR = True
    settings.CLINIC_TRUSTED_PROXIES = [ipaddress.ip_network(PROXY)]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def request_from(peer, **headers):
    return RequestFactory().get("/", REMOTE_ADDR=peer, **headers)


def test_the_proxys_forwarded_address_is_the_client(behind_proxy):
    assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")) == "198.51.100.7"


def test_a_forged_header_from_any_other_sender_is_ignored(behind_proxy):
    forged = request_from("203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client_ip(forged) == "203.0.113.9"


def test_hops_the_client_wrote_before_the_proxys_are_ignored(behind_proxy, settings):
    settings.CLINIC_TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]
    # The client sent "1.2.3.4"; an inner proxy at 10.0.0.20 appended the client's real address;
    # the outer proxy at 10.0.0.10 appended the inner one's.
    request = request_from(PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.0.0.20")
    assert client_ip(request) == "198.51.100.7"


@pytest.mark.parametrize("junk", ["not-an-address", "1.2.3.4\n5.6.7.8", "::zz"])
def test_a_hop_that_is_not_an_address_falls_back_to_the_peer(behind_proxy, junk):
    assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR=junk)) == PROXY


def test_without_a_proxy_the_header_is_never_read(settings):
    settings.CLINIC_TRUST_X_FORWARDED_FOR = False
    assert client_ip(request_from(PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")) == PROXY


def test_forwarded_headers_from_a_stranger_are_dropped_before_django_reads_them(behind_proxy):
    seen = {}

    def view(request):
        seen["secure"] = request.is_secure()
        seen["headers"] = {k for k in request.META if k.startswith("HTTP_X_")}
        return HttpResponse()

    middleware = ProxyHeadersMiddleware(view)
    middleware(
        request_from(
            "203.0.113.9", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="1.1.1.1",
            HTTP_X_REAL_IP="1.1.1.1",
        )
    )  # fmt: skip
    assert seen == {"secure": False, "headers": set()}
    middleware(request_from(PROXY, HTTP_X_FORWARDED_PROTO="https"))
    assert seen["secure"] is True


def test_a_forged_address_does_not_reach_the_access_log(behind_proxy, client, clinician, patient):
    client.force_login(clinician)
    url = reverse("patients:detail", args=[patient.pk])
    client.get(url, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.66")
    client.get(
        url, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66", HTTP_X_FORWARDED_PROTO="https"
    )
    addresses = list(
        AccessEvent.objects.filter(action="view_record")
        .order_by("pk")
        .values_list("ip_address", flat=True)
    )
    assert addresses == ["203.0.113.9", "198.51.100.66"]


def test_trusted_proxies_default_to_this_host(monkeypatch):
    monkeypatch.delenv("DJANGO_TRUSTED_PROXIES", raising=False)
    networks = clinic_settings.env_networks("DJANGO_TRUSTED_PROXIES", ["127.0.0.1", "::1"])
    assert [str(network) for network in networks] == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize("value", ["nginx.internal", "10.0.0.300", "*"])
def test_a_trusted_proxy_that_is_not_an_address_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("DJANGO_TRUSTED_PROXIES", value)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_TRUSTED_PROXIES"):
        clinic_settings.env_networks("DJANGO_TRUSTED_PROXIES", [])
