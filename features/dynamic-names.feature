@dynamic-names
Feature: Per-client update files reach each client intact under per-client names
  Windows Update hands each machine a tailored payload (service packs differ in size and
  content) under a URL carrying a per-client token. A proxy that keys a cache on anything but
  the whole URL hands one machine another machine's update.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario Outline: several clients fetch their own tailored payloads over <scheme>
    Given "<host>" serves each of 4 clients its own tailored update file
    When every client downloads its own file over <scheme>, one after the other
    Then each client received exactly its own bytes
    And the origin received every client's URL once
    And no client was answered from another client's download
    And the proxy did not ask for credentials

    Examples:
      | host                               | scheme |
      | download.windowsupdate.com         | HTTP   |
      | 7.tlu.dl.delivery.mp.microsoft.com | HTTP   |
      | au.download.windowsupdate.com      | HTTPS  |
