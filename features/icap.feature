@icap
Feature: Windows Update traffic is never sent to ICAP
  Content adaptation buffers and may rewrite update payloads; the vendor policy turns ICAP off
  for update hosts. Other traffic is adapted: at least the kinds of object the site scans.

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

  # An antivirus often scans only some kinds of object (programs, archives), chosen by the
  # URL's extension or the reply's type: the control offers one of each kind, and holds when
  # any of them is adapted.
  @control
  Scenario: control objects of each kind are sent to the ICAP service
    Given "downloads.example.net" serves a control object of each kind
    When a client with the lab credentials requests each of them over HTTP
    Then the ICAP service adapted at least one of them
