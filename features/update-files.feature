Feature: Every kind of update file goes through under its real URL
  Windows Update content comes as .cab and .msu under /c/ and /d/msdownload, per-client file
  streams with signed P1..P4 queries, multi-GiB .esd feature updates, Defender's .exe, Store
  .appx and express .psf payloads. A rule keyed on an extension, a path or a query (caching
  .cab files, blocking .exe downloads, stripping queries) must not touch them.

  Background:
    Given the lab proxy enforces the policy under test

  @range
  Scenario Outline: a BITS download of a <family> from <host> over <scheme>
    Given "<host>" serves a 600 KiB <family> under its real URL shape
    When a BITS client downloads that file over <scheme> in 256 KiB ranges
    Then the client learned the size and ETag with HEAD first
    And every range came back 206 with its exact bytes
    And the ranges covered the file from byte 0 to its end
    And the origin received every Range header unchanged
    And the origin saw each client's own User-Agent
    And the proxy did not ask for credentials

    Examples:
      | family                            | host                           | scheme |
      | cumulative update .cab            | *.download.windowsupdate.com   | HTTP   |
      | security update .msu              | download.windowsupdate.com     | HTTP   |
      | Delivery Optimization file stream | *.dl.delivery.mp.microsoft.com | HTTP   |
      | Delivery Optimization file stream | *.dl.delivery.mp.microsoft.com | HTTPS  |
      | feature update .esd               | *.dl.delivery.mp.microsoft.com | HTTPS  |
      | Defender definitions .exe         | download.microsoft.com         | HTTP   |
      | Store app .appx                   | *.delivery.mp.microsoft.com    | HTTPS  |
      | express update .psf               | *.windowsupdate.com            | HTTP   |

  @cache
  Scenario Outline: a <family> from <host> is never answered from the cache
    Given "<host>" serves a 64 KiB <family> under its real URL shape
    When a client without credentials requests that file over HTTP
    And the same client requests it again
    Then every response carried the file's exact bytes
    And no response came from the proxy's cache

    Examples:
      | family                            | host                           |
      | cumulative update .cab            | *.download.windowsupdate.com   |
      | security update .msu              | download.windowsupdate.com     |
      | Delivery Optimization file stream | *.dl.delivery.mp.microsoft.com |
      | feature update .esd               | *.dl.delivery.mp.microsoft.com |
      | Defender definitions .exe         | download.microsoft.com         |
      | express update .psf               | *.windowsupdate.com            |
