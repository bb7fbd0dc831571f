@auth
Feature: Redirects between update hosts are followed hop by hop through the proxy
  Windows Update's content hosts hand clients to the delivery network with a 302, and the update
  metadata service over HTTPS points at content over plain HTTP. The client follows each hop
  itself: every hop must reach the origin through the proxy untouched, without a 407 on the
  second host and without the proxy answering or following the redirect for the client.

  Background:
    Given the lab proxy enforces the policy under test

  Scenario Outline: a file redirected from <from> to <to> arrives after each hop
    Given "<to>" serves a 256 KiB Delivery Optimization file stream under its real URL shape
    And "<from>" redirects requests for that file there
    When an update client downloads that file from the first host over <scheme>, following each redirect itself
    Then the origin answered every hop of the redirect itself
    And it receives the whole file with status 200
    And the proxy did not ask for credentials

    Examples:
      | from                          | to                                    | scheme |
      | download.windowsupdate.com    | *.dl.delivery.mp.microsoft.com        | HTTP   |
      | *.download.windowsupdate.com  | *.dl.delivery.mp.microsoft.com, deep  | HTTP   |
      | *.delivery.mp.microsoft.com   | *.dl.delivery.mp.microsoft.com        | HTTPS  |
      | *.update.microsoft.com        | *.download.windowsupdate.com          | HTTPS  |
