@hosts
Feature: Every Windows Update host is let through untouched
  Microsoft documents the Windows Update endpoints as a set of host patterns; a policy that
  forgets one leaves that part of the fleet authenticated, cached, adapted or intercepted.
  Every property is checked on one concrete name per pattern, deep names included.

  Background:
    Given the lab proxy enforces the policy under test

  @auth
  Scenario Outline: <host> (<pattern>) needs no credentials over HTTP and HTTPS
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the proxy did not ask for credentials

    Examples:
      | host                                     | pattern                                  |
      | windowsupdate.microsoft.com              | windowsupdate.microsoft.com              |
      | v4.windowsupdate.microsoft.com           | *.windowsupdate.microsoft.com            |
      | fe2.update.microsoft.com                 | *.update.microsoft.com                   |
      | sls.update.microsoft.com                 | *.update.microsoft.com                   |
      | www.windowsupdate.com                    | *.windowsupdate.com                      |
      | download.windowsupdate.com               | download.windowsupdate.com               |
      | au.download.windowsupdate.com            | *.download.windowsupdate.com             |
      | download.microsoft.com                   | download.microsoft.com                   |
      | wustat.windows.com                       | wustat.windows.com                       |
      | ntservicepack.microsoft.com              | ntservicepack.microsoft.com              |
      | tlu.delivery.mp.microsoft.com            | *.delivery.mp.microsoft.com              |
      | 7.tlu.dl.delivery.mp.microsoft.com       | *.dl.delivery.mp.microsoft.com           |
      | geo.prod.do.dsp.mp.microsoft.com         | *.do.dsp.mp.microsoft.com                |
      | tsfe.trafficshaping.dsp.mp.microsoft.com | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | cdn.emdl.ws.microsoft.com                | *.emdl.ws.microsoft.com                  |
      | ctldl.windowsupdate.com                  | ctldl.windowsupdate.com                  |

  @cache
  Scenario Outline: <host> (<pattern>) is never answered from the cache
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And the same client requests it again
    Then every response carried the file's exact bytes
    And no response came from the proxy's cache

    Examples:
      | host                                     | pattern                                  |
      | windowsupdate.microsoft.com              | windowsupdate.microsoft.com              |
      | v4.windowsupdate.microsoft.com           | *.windowsupdate.microsoft.com            |
      | fe2.update.microsoft.com                 | *.update.microsoft.com                   |
      | sls.update.microsoft.com                 | *.update.microsoft.com                   |
      | www.windowsupdate.com                    | *.windowsupdate.com                      |
      | download.windowsupdate.com               | download.windowsupdate.com               |
      | au.download.windowsupdate.com            | *.download.windowsupdate.com             |
      | download.microsoft.com                   | download.microsoft.com                   |
      | wustat.windows.com                       | wustat.windows.com                       |
      | ntservicepack.microsoft.com              | ntservicepack.microsoft.com              |
      | tlu.delivery.mp.microsoft.com            | *.delivery.mp.microsoft.com              |
      | 7.tlu.dl.delivery.mp.microsoft.com       | *.dl.delivery.mp.microsoft.com           |
      | geo.prod.do.dsp.mp.microsoft.com         | *.do.dsp.mp.microsoft.com                |
      | tsfe.trafficshaping.dsp.mp.microsoft.com | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | cdn.emdl.ws.microsoft.com                | *.emdl.ws.microsoft.com                  |
      | ctldl.windowsupdate.com                  | ctldl.windowsupdate.com                  |

  @icap
  Scenario Outline: <host> (<pattern>) is never sent to ICAP
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTP
    And a client without credentials requests that file over HTTPS
    Then every response carried the file's exact bytes
    And the ICAP service saw no request for that file

    Examples:
      | host                                     | pattern                                  |
      | windowsupdate.microsoft.com              | windowsupdate.microsoft.com              |
      | v4.windowsupdate.microsoft.com           | *.windowsupdate.microsoft.com            |
      | fe2.update.microsoft.com                 | *.update.microsoft.com                   |
      | sls.update.microsoft.com                 | *.update.microsoft.com                   |
      | www.windowsupdate.com                    | *.windowsupdate.com                      |
      | download.windowsupdate.com               | download.windowsupdate.com               |
      | au.download.windowsupdate.com            | *.download.windowsupdate.com             |
      | download.microsoft.com                   | download.microsoft.com                   |
      | wustat.windows.com                       | wustat.windows.com                       |
      | ntservicepack.microsoft.com              | ntservicepack.microsoft.com              |
      | tlu.delivery.mp.microsoft.com            | *.delivery.mp.microsoft.com              |
      | 7.tlu.dl.delivery.mp.microsoft.com       | *.dl.delivery.mp.microsoft.com           |
      | geo.prod.do.dsp.mp.microsoft.com         | *.do.dsp.mp.microsoft.com                |
      | tsfe.trafficshaping.dsp.mp.microsoft.com | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | cdn.emdl.ws.microsoft.com                | *.emdl.ws.microsoft.com                  |
      | ctldl.windowsupdate.com                  | ctldl.windowsupdate.com                  |

  @tls
  Scenario Outline: <host> (<pattern>) is tunnelled, not intercepted
    Given "<host>" serves a 16 KiB update file under a per-client name
    When a client without credentials requests that file over HTTPS
    Then the certificate the client saw was issued by the origin CA
    And the origin saw the client's own TLS handshake
    And the proxy logged a tunnel to that host

    Examples:
      | host                                     | pattern                                  |
      | windowsupdate.microsoft.com              | windowsupdate.microsoft.com              |
      | v4.windowsupdate.microsoft.com           | *.windowsupdate.microsoft.com            |
      | fe2.update.microsoft.com                 | *.update.microsoft.com                   |
      | sls.update.microsoft.com                 | *.update.microsoft.com                   |
      | www.windowsupdate.com                    | *.windowsupdate.com                      |
      | download.windowsupdate.com               | download.windowsupdate.com               |
      | au.download.windowsupdate.com            | *.download.windowsupdate.com             |
      | download.microsoft.com                   | download.microsoft.com                   |
      | wustat.windows.com                       | wustat.windows.com                       |
      | ntservicepack.microsoft.com              | ntservicepack.microsoft.com              |
      | tlu.delivery.mp.microsoft.com            | *.delivery.mp.microsoft.com              |
      | 7.tlu.dl.delivery.mp.microsoft.com       | *.dl.delivery.mp.microsoft.com           |
      | geo.prod.do.dsp.mp.microsoft.com         | *.do.dsp.mp.microsoft.com                |
      | tsfe.trafficshaping.dsp.mp.microsoft.com | tsfe.trafficshaping.dsp.mp.microsoft.com |
      | cdn.emdl.ws.microsoft.com                | *.emdl.ws.microsoft.com                  |
      | ctldl.windowsupdate.com                  | ctldl.windowsupdate.com                  |
