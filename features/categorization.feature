@categorize
Feature: Windows Update traffic is never sent for categorisation
  A web-filter categorisation lookup delays every request and denies an update host the
  service misclassifies; the vendor policy turns categorisation off for update hosts
  (webpulse.categorize.mode(none)). Other traffic is categorised, and a host the service
  calls blocked is denied.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario: an update file over HTTP is not categorised
    Given "download.windowsupdate.com" serves a 64 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    Then every response carried the file's exact bytes
    And the categorisation service was not asked about that host

  Scenario: an update file over HTTPS is not categorised
    Given "7.tlu.dl.delivery.mp.microsoft.com" serves a 64 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the categorisation service was not asked about that host

  Scenario: an update host the categorisation service would block still serves updates
    Given "sls.update.microsoft.com" serves a 64 KiB update file under a per-client name
    And the categorisation service calls "sls.update.microsoft.com" blocked
    When a client without credentials requests that file over HTTP
    Then every response carried the file's exact bytes
    And the categorisation service was not asked about that host

  # The categorisation service rates the destination host, whatever the object: a page is
  # control enough, over HTTP as on the CONNECT.
  @control
  Scenario: a control page over HTTP is categorised
    Given "www.example.com" serves a cacheable page
    When a client with the lab credentials requests that page over HTTP
    Then the client receives status 200
    And the categorisation service was asked about that host

  @control
  Scenario: a control page over HTTPS is categorised
    Given "downloads.example.net" serves a cacheable page
    When a client with the lab credentials requests that page over HTTPS
    Then the client receives status 200
    And the categorisation service was asked about that host

  @control
  Scenario Outline: a control host the categorisation service calls blocked is denied over <scheme>
    Given "www.example.com" serves a cacheable page
    And the categorisation service calls "www.example.com" blocked
    When a client with the lab credentials requests that page over <scheme>
    Then the proxy denied the request
    And the categorisation service was asked about that host
    And the origin received 0 requests for that page

    Examples:
      | scheme |
      | HTTP   |
      | HTTPS  |
