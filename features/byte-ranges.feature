@range
Feature: BITS fetches update payloads in byte ranges through the proxy
  BITS and Delivery Optimization ask for the size with HEAD and then download in ranges; a
  proxy that drops or widens a range breaks delta updates or multiplies WAN bytes.

  Background:
    Given the lab proxy enforces the policy under test
    And "download.windowsupdate.com" serves a 4 MiB update file under a per-client name

  Scenario: a ranged GET reaches the origin unchanged
    When a BITS client asks for bytes 1048576-2097151 of that file over HTTP
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=1048576-2097151"
    And the origin sent at most 1 MiB for that request
    And the proxy did not ask for credentials

  Scenario: a ranged GET through a CONNECT tunnel reaches the origin unchanged
    When a BITS client asks for bytes 0-65535 of that file over HTTPS
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=0-65535"
    And the origin sent at most 64 KiB for that request
