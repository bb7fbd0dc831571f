@tls
Feature: TLS to Microsoft update hosts is tunnelled, never intercepted
  Update endpoints pin their certificate chain: a bumped connection fails. The proxy must
  splice Windows Update TLS and may bump everything else.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario: an update host's certificate comes from the origin, through a tunnel
    Given "sls.update.microsoft.com" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then the client receives status 200
    And the certificate the client saw was issued by the origin CA
    And the origin saw the client's own TLS handshake
    And the proxy logged a tunnel to that host

  Scenario: a deep delivery-network name is tunnelled too
    Given "7.tlu.dl.delivery.mp.microsoft.com" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then the certificate the client saw was issued by the origin CA
    And the origin saw the client's own TLS handshake
    And the proxy logged a tunnel to that host

  @control
  Scenario: a control host is intercepted with the proxy's CA
    Given "www.example.com" serves a cacheable page
    When a client with the lab credentials requests that page over HTTPS
    Then the client receives status 200
    And the certificate the client saw was issued by the interception CA
    And the origin saw the proxy's TLS handshake
    And the proxy logged a decrypted request to that host
