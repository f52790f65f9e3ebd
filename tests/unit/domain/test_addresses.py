import ipaddress

import pytest

from domain.addresses import AllowList, address_refusal, host_refusal, parse_ip


class TestParseIp:
    @pytest.mark.parametrize(
        ("host", "expected"),
        [
            ("127.0.0.1", "127.0.0.1"),
            ("127.0.0.1.", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("0X7F000001", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),
            ("0177.0.0.01", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0", "0.0.0.0"),
            ("169.254.43518", "169.254.169.254"),
            ("[::1]", "::1"),
            ("::1", "::1"),
            ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
            ("[fe80::1%eth0]", "fe80::1"),
        ],
    )
    def test_every_literal_form_a_resolver_accepts_is_read_as_its_address(
        self, host: str, expected: str
    ) -> None:
        assert parse_ip(host) == ipaddress.ip_address(expected)

    @pytest.mark.parametrize(
        "host",
        ["example.com", "localhost", "1.2.3.4.5", "256.1.1.1", "0x100.0.0.1", "09.1.1.1", "", "[]"],
    )
    def test_names_and_impossible_numbers_are_not_addresses(self, host: str) -> None:
        assert parse_ip(host) is None


class TestAddressRefusal:
    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("::1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("fd12::1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("fd00:ec2::254", "cloud metadata"),
            ("168.63.129.16", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("fe80::1", "link-local"),
            ("224.0.0.1", "multicast"),
            ("239.1.1.1", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("100.64.0.1", "shared address space"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
            ("192.0.2.1", "reserved"),
            ("198.18.0.1", "reserved"),
            ("2001:db8::1", "reserved"),
            ("::7f00:1", "reserved"),
        ],
    )
    def test_non_public_addresses_are_refused_with_their_kind(
        self, address: str, reason: str
    ) -> None:
        assert address_refusal(ipaddress.ip_address(address)) == reason

    @pytest.mark.parametrize(
        ("address", "reason"),
        [
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "cloud metadata"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:a9fe:a9fe::1", "cloud metadata"),
        ],
    )
    def test_ipv6_forms_carrying_an_ipv4_address_are_judged_by_it(
        self, address: str, reason: str
    ) -> None:
        assert address_refusal(ipaddress.ip_address(address)) == reason

    @pytest.mark.parametrize(
        "address",
        ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"],
    )
    def test_public_unicast_addresses_pass(self, address: str) -> None:
        assert address_refusal(ipaddress.ip_address(address)) is None


class TestHostRefusal:
    @pytest.mark.parametrize(
        ("host", "reason"),
        [
            ("169.254.169.254", "cloud metadata"),
            ("127.0.0.1", "loopback"),
            ("[::1]", "loopback"),
            ("0x7f000001", "loopback"),
            ("2130706433", "loopback"),
            ("[::ffff:7f00:1]", "loopback"),
            ("10.0.0.8", "private"),
            ("localhost", "loopback"),
            ("LOCALHOST.", "loopback"),
            ("api.localhost", "loopback"),
            ("metadata.google.internal", "cloud metadata"),
        ],
    )
    def test_a_url_host_that_is_not_public_is_refused_without_dns(
        self, host: str, reason: str
    ) -> None:
        assert host_refusal(host) == reason

    @pytest.mark.parametrize("host", ["hooks.example.com", "8.8.8.8", "[2606:4700::1111]"])
    def test_public_hosts_and_names_pass(self, host: str) -> None:
        assert host_refusal(host) is None


class TestAllowList:
    def test_listed_addresses_networks_and_names_pass_and_nothing_else(self) -> None:
        allowed = AllowList.parse(["127.0.0.1", "10.20.0.0/16", "fd00::/8", "crm.corp", "*.lan"])
        assert host_refusal("127.0.0.1", allowed) is None
        assert host_refusal("10.20.3.4", allowed) is None
        assert host_refusal("[fd00::5]", allowed) is None
        assert host_refusal("CRM.corp.", allowed) is None
        assert host_refusal("printer.office.lan", allowed) is None
        assert host_refusal("127.0.0.2", allowed) == "loopback"
        assert host_refusal("10.21.0.1", allowed) == "private"
        assert host_refusal("localhost", allowed) == "loopback"

    def test_an_allowed_ipv4_address_is_allowed_in_its_ipv6_mapped_form(self) -> None:
        allowed = AllowList.parse(["127.0.0.1"])
        assert allowed.allows_address(ipaddress.ip_address("::ffff:127.0.0.1"))
        assert not allowed.allows_address(ipaddress.ip_address("::1"))

    @pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "http://x/"])
    def test_an_entry_that_is_no_name_or_network_is_refused(self, entry: str) -> None:
        with pytest.raises(ValueError, match="neither"):
            AllowList.parse([entry])
