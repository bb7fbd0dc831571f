@range @large @serial
Feature: Multi-GiB update payloads stream through the proxy in ranges
  Feature updates are several GiB. BITS fetches them in ranges; offsets beyond 4 GiB must
  survive the proxy; other clients fetch whole packages in one request, which a body-size limit
  (reply_body_max_size) refuses or cuts off. A proxy decides on a whole multi-GiB reply as soon
  as it reads its length, so the client checks the announced length and the first 64 MiB, then
  hangs up (the 300 MiB package is read to its end). The harness itself streams: it holds no
  copy of the file. These scenarios run alone (@serial), so the memory measured is the
  download's.

  Scenario: the tail of a 4 GiB feature update, across the 4 GiB boundary, in 16 MiB ranges
    Given the lab proxy enforces the policy under test
    And "7.tlu.dl.delivery.mp.microsoft.com" serves a 4336922681 bytes update file under a per-client name
    When a BITS client downloads that file from byte 4244635648 over HTTP in 16 MiB ranges
    Then the client learned the size and ETag with HEAD first
    And every range came back 206 with its exact bytes
    And the ranges covered the file from byte 4244635648 to its end
    And the origin received every Range header unchanged
    And the origin sent no more bytes than each range asked for
    And the harness's memory grew by less than 32 MiB during the download

  Scenario: a 300 MiB package fetched whole, in one request without a Range
    Given the lab proxy enforces the policy under test
    And "*.dl.delivery.mp.microsoft.com" serves a 300 MiB update file under a per-client name
    When an update client downloads the whole file over HTTP in one request
    Then it receives the whole file with status 200
    And the origin received 1 request for that file
    And the harness's memory grew by less than 32 MiB during the download

  Scenario: a 5 GiB feature update requested whole, in one request without a Range
    Given the lab proxy enforces the policy under test
    And "*.dl.delivery.mp.microsoft.com" serves a 5 GiB update file under a per-client name
    When an update client starts a whole-file download of that file over HTTP and reads its first 64 MiB
    Then it receives status 200 announcing the whole file, and its first 64 MiB intact
    And the harness's memory grew by less than 32 MiB during the download
