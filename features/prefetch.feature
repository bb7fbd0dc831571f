@prefetch
Feature: The proxy fetches nothing from update hosts that the client did not ask for
  A proxy that prefetches objects linked from a page (ProxySG "pipeline") multiplies the WAN
  bytes of update metadata and fetches per-client payloads nobody asked for; the vendor policy
  turns it off for update hosts.

  Scenario Outline: an update page that links other objects over <scheme>
    Given the lab proxy enforces the policy under test
    And "<host>" serves an update page that links 3 other objects
    When a client without credentials requests that page over <scheme>
    And the client follows the first link of that page
    Then the client receives status 200
    And the origin saw only the requests the client sent

    Examples:
      | host                          | scheme |
      | www.windowsupdate.com         | HTTP   |
      | fe2.update.microsoft.com      | HTTPS  |
