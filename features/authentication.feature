@auth
Feature: Windows Update reaches its servers without proxy authentication
  The update agent runs as SYSTEM and cannot answer a 407, so the proxy must let update
  traffic through without asking for credentials, while still authenticating other traffic.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario: an update file over HTTP needs no credentials
    Given "download.windowsupdate.com" serves a 64 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    Then the client receives status 200
    And every response carried the file's exact bytes
    And the proxy did not ask for credentials

  Scenario: an update file over HTTPS (CONNECT) needs no credentials
    Given "fe2.update.microsoft.com" serves a 64 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then the client receives status 200
    And every response carried the file's exact bytes
    And the proxy did not ask for credentials

  # Credentials are asked of a user, not of a kind of object: a page is control enough (a
  # policy that challenged only some downloads would leave its users' browsing anonymous).
  @control
  Scenario: a non-update host is challenged for credentials over HTTP
    Given "www.example.com" serves a cacheable page
    When a client without credentials requests that page over HTTP
    Then the proxy asked for credentials

  @control
  Scenario: a non-update host is challenged for credentials on CONNECT
    Given "www.example.com" serves a cacheable page
    When a client without credentials requests that page over HTTPS
    Then the proxy asked for credentials
