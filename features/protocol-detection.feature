@protocol
Feature: Tunnels to update hosts carry whatever bytes the client sends
  Delivery Optimization and other update components speak more than TLS on port 443, some of it
  server-first (the service greets before the client says anything). A proxy that inspects the
  protocol inside the tunnel (detect_protocol) breaks them: it holds a silent tunnel until the
  client speaks; the vendor policy turns detection off for update hosts.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario Outline: non-TLS bytes through a CONNECT to <host> come back verbatim
    When a client without credentials sends non-TLS bytes through a CONNECT tunnel to "<host>" on port 443
    Then the origin received those bytes verbatim
    And the client received the origin's reply verbatim
    And the proxy logged a tunnel to that host

    Examples:
      | host                               |
      | fe2.update.microsoft.com           |
      | geo.prod.do.dsp.mp.microsoft.com   |

  Scenario Outline: an update download over HTTPS from <host> is spliced without reading its ClientHello
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the proxy did not read the client's TLS ClientHello

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

  Scenario Outline: a server-first protocol through a CONNECT to <host> greets the silent client
    When a client without credentials opens a CONNECT tunnel to "<host>" on port 443 and waits for the server to speak first
    Then the client received the origin's greeting before it sent a byte
    And the origin received those bytes verbatim
    And the client received the origin's reply verbatim

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

  @control
  Scenario: non-TLS bytes to a control host are stopped by the proxy's inspection
    When a client with the lab credentials sends non-TLS bytes through a CONNECT tunnel to "www.example.com" on port 443
    Then the proxy accepted the tunnel but the origin never received those bytes
