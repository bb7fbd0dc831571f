@hosts
Feature: Every Windows Update host pattern is let through untouched
  Microsoft documents the Windows Update endpoints as a set of host patterns; a policy that
  forgets one, or lists only the names a test happens to use, leaves part of the fleet
  authenticated, cached, adapted, categorised, inspected or intercepted. Every per-host
  property is checked on every pattern: a wildcard pattern is served under fresh random labels
  each run ("*.update.microsoft.com" names one drawn one label deep, ", deep" one drawn two
  labels deep), exact names as Microsoft lists them.

  Background:
    Given the lab proxy enforces the policy under test

  @auth
  Scenario Outline: <host> needs no credentials over HTTP and HTTPS
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the proxy did not ask for credentials

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @cache
  Scenario Outline: <host> is never answered from the cache
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And the same client requests it again
    Then every response carried the file's exact bytes
    And no response came from the proxy's cache

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @icap
  Scenario Outline: <host> is never sent to ICAP
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the ICAP service saw no request for that file

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @tls
  Scenario Outline: <host> is tunnelled, not intercepted
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then the certificate the client saw was issued by the origin CA
    And the origin saw the client's own TLS handshake
    And the proxy logged a tunnel to that host

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @categorize
  Scenario Outline: <host> is never sent for categorisation
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    Then every response carried the file's exact bytes
    And the categorisation service was not asked about that host

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @categorize
  Scenario Outline: <host> is never sent for categorisation over HTTPS
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the categorisation service was not asked about that host

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @range
  Scenario Outline: <host> passes a BITS range through unchanged
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a BITS client asks for bytes 1024-4095 of that file over HTTP
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=1024-4095"
    And the origin sent at most 3 KiB for that request

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |

  @protocol
  Scenario Outline: <host> carries non-TLS bytes through a CONNECT tunnel verbatim
    When a client without credentials sends non-TLS bytes through a CONNECT tunnel to "<host>" on port 443
    Then the origin received those bytes verbatim
    And the client received the origin's reply verbatim
    And the proxy logged a tunnel to that host

    Examples:
      | host                                     |
      | windowsupdate.microsoft.com              |
      | *.windowsupdate.microsoft.com            |
      | *.windowsupdate.microsoft.com, deep      |
      | *.update.microsoft.com                   |
      | *.update.microsoft.com, deep             |
      | *.windowsupdate.com                      |
      | *.windowsupdate.com, deep                |
      | download.windowsupdate.com               |
      | *.download.windowsupdate.com             |
      | *.download.windowsupdate.com, deep       |
      | download.microsoft.com                   |
      | wustat.windows.com                       |
      | ntservicepack.microsoft.com              |
      | *.delivery.mp.microsoft.com              |
      | *.delivery.mp.microsoft.com, deep        |
      | *.dl.delivery.mp.microsoft.com           |
      | *.dl.delivery.mp.microsoft.com, deep     |
      | *.do.dsp.mp.microsoft.com                |
      | *.do.dsp.mp.microsoft.com, deep          |
      | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | *.emdl.ws.microsoft.com                  |
      | *.emdl.ws.microsoft.com, deep            |
      | ctldl.windowsupdate.com                  |
