Feature: The Windows update components download as they really do
  Delivery Optimization fetches 1 MiB pieces over several connections after two tiny probes,
  CryptoAPI refreshes the certificate trust list with If-Modified-Since, and the Windows Update
  Agent asks for updates with a SOAP call over TLS. Each sends its own User-Agent, which a
  proxy must neither require credentials for nor rewrite.

  Background:
    Given the lab proxy enforces the policy under test

  @range
  Scenario Outline: Delivery Optimization pieces from <host> over <scheme> reassemble the file
    Given "<host>" serves a 4500 KiB update file under a per-client name
    When a Delivery Optimization client downloads that file over <scheme> in 1 MiB pieces over 4 connections
    Then every range came back 206 with its exact bytes
    And the ranges covered the file from byte 0 to its end
    And the origin received every Range header unchanged
    And the origin sent no more bytes than each range asked for
    And the origin saw each client's own User-Agent
    And the proxy did not ask for credentials

    Examples:
      | host                           | scheme |
      | *.dl.delivery.mp.microsoft.com | HTTP   |
      | *.delivery.mp.microsoft.com    | HTTPS  |

  @cache @serial
  Scenario: CryptoAPI's conditional refresh of the trust list reaches the origin
    Given "ctldl.windowsupdate.com" serves the certificate trust list
    When a CryptoAPI client fetches the certificate trust list over HTTP
    And the CryptoAPI client fetches it again with the list's Last-Modified
    Then the client receives status 304
    And the origin received the client's conditional request unchanged
    And no response came from the proxy's cache
    And the origin saw each client's own User-Agent

  @auth @tls @serial
  Scenario Outline: the Windows Update Agent's SOAP call to <host> goes through untouched
    When the Windows Update Agent calls the update service on "<host>" over HTTPS
    Then the client receives status 200
    And the certificate the client saw was issued by the origin CA
    And the origin received the agent's whole SOAP request
    And the origin saw each client's own User-Agent
    And the proxy did not ask for credentials

    Examples:
      | host                        |
      | *.update.microsoft.com      |
      | *.delivery.mp.microsoft.com |
