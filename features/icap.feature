@icap
Feature: Windows Update traffic is never sent to ICAP
  Content adaptation buffers and may rewrite update payloads; the vendor policy turns ICAP off
  for update hosts. Other traffic is adapted.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario: an update file over HTTP is not adapted
    Given "au.download.windowsupdate.com" serves a 64 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    Then every response carried the file's exact bytes
    And the ICAP service saw no request for that file

  Scenario: an update file over HTTPS is not adapted
    Given "fe2.update.microsoft.com" serves a 64 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the ICAP service saw no request for that file

  @control
  Scenario: a control page is sent to the ICAP service
    Given "downloads.example.net" serves a cacheable page
    When a client with the lab credentials requests that page over HTTP
    Then the client receives status 200
    And the ICAP service adapted that page
