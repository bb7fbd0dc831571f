@range
Feature: BITS fetches update payloads in byte ranges through the proxy
  BITS and Delivery Optimization ask for the size with HEAD and then download in ranges; a
  proxy that drops or widens a range breaks delta updates or multiplies WAN bytes.

  Background:
    Given the lab proxy enforces the policy under test
    And "download.windowsupdate.com" serves a 4 MiB update file under a per-client name

  Scenario: a ranged GET reaches the origin unchanged
    When a BITS client asks for bytes 1048576-2097151 of that file over HTTP
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=1048576-2097151"
    And the origin sent at most 1 MiB for that request
    And the proxy did not ask for credentials

  Scenario: a ranged GET through a CONNECT tunnel reaches the origin unchanged
    When a BITS client asks for bytes 0-65535 of that file over HTTPS
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=0-65535"
    And the origin sent at most 64 KiB for that request

  Scenario Outline: a BITS download in <chunk> ranges is reassembled exactly over <scheme>
    Given "<host>" serves a <size> update file under a per-client name
    When a BITS client downloads that file over <scheme> in <chunk> ranges
    Then the client learned the size and ETag with HEAD first
    And every range came back 206 with its exact bytes
    And the ranges covered the file from byte 0 to its end
    And the origin received every Range header unchanged
    And the origin sent no more bytes than each range asked for
    And the proxy did not ask for credentials

    Examples:
      | host                                | size          | chunk   | scheme |
      | download.windowsupdate.com          | 3000000 bytes | 1 MiB   | HTTP   |
      | au.download.windowsupdate.com       | 1000000 bytes | 64 KiB  | HTTP   |
      | 7.tlu.dl.delivery.mp.microsoft.com  | 2500000 bytes | 512 KiB | HTTPS  |

  Scenario: a suffix range asks for the end of the file
    When a BITS client asks for the range "bytes=-100000" of that file over HTTP
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=-100000"
    And the origin sent no more bytes than each range asked for

  Scenario: an open range asks from an offset to the end
    When a BITS client asks for the range "bytes=4000000-" of that file over HTTP
    Then it receives 206 with exactly those bytes
    And the origin received the Range header "bytes=4000000-"
    And the origin sent no more bytes than each range asked for

  Scenario: a download resumes with If-Range and the file's ETag
    When a BITS client resumes that file from byte 3145728 over HTTP with its ETag in If-Range
    Then it receives 206 with exactly those bytes
    And the origin received every Range header unchanged
    And the origin sent no more bytes than each range asked for

  Scenario: a resume with a stale ETag gets the whole new file
    When a BITS client resumes that file from byte 3145728 over HTTP with a stale ETag in If-Range
    Then it receives the whole file with status 200

  Scenario: a multi-range request comes back as multipart/byteranges
    When a BITS client asks for the range "bytes=0-99,1048576-1114111,4194000-" of that file over HTTP
    Then it receives 206 multipart/byteranges with exactly those ranges
    And the origin received the Range header "bytes=0-99,1048576-1114111,4194000-"
    And the origin sent no more bytes than each range asked for
