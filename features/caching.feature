@cache
Feature: Windows Update downloads are never answered from the proxy's cache
  Update files carry per-client names and are tailored per machine; a cache keyed by URL can
  hand one client another client's payload. Every request must reach the origin.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario: the same cacheable update file fetched twice reaches the origin twice
    Given "download.windowsupdate.com" serves a 256 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And the same client requests it again
    Then every response carried the file's exact bytes
    And no response came from the proxy's cache
    And the origin received 2 requests for that file

  # A cache often keeps only some kinds of object (software downloads, archives), chosen by
  # the URL's extension: the control offers one of each kind, and holds when any of them is
  # served from the cache the second time.
  @control
  Scenario: cacheable control objects are served from the cache the second time
    Given "www.example.com" serves a control object of each kind
    When a client with the lab credentials requests each of them over HTTP
    And the same client requests each of them again
    Then at least one of them came from the proxy's cache the second time
