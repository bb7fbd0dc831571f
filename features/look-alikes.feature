@look-alike
Feature: Hosts that only look like Windows Update are still policed
  An over-broad bypass (a substring such as "microsoft", an unanchored regular expression, a
  suffix without its dot) lets hosts that merely resemble Microsoft's update endpoints skip
  authentication and inspection. Each run draws fresh look-alikes of every kind (the update
  domain with a domain appended, glued to another label, hyphenated, under another top-level
  domain, a hyphen for a dot, a dot replaced, a label inserted, a sibling under a parent
  domain); the proxy must treat them as any other host. A
  look-alike that is let through fails its property, unless the property's own control fails
  too (then nothing can be told and the verdict is inconclusive). A look-alike the proxy refuses
  outright (an allow-list policy) was not let through either: a refusal counts as policing.
  Where a policy may scan or cache only some kinds of object (ICAP, caching), a look-alike is
  offered the same objects of each kind as the controls, and counts as policed when any of them
  is: a look-alike is judged by what its property's control shows the proxy does.

  Background:
    Given the lab proxy enforces the policy under test
    And a refusal by the proxy counts as policing the host

  @auth
  Scenario Outline: <look-alike> is challenged for credentials
    Given "<look-alike>" serves a cacheable page
    When a client without credentials requests that page over HTTP
    Then the proxy asked for credentials

    Examples:
      | look-alike    |
      | look-alike 1  |
      | look-alike 2  |
      | look-alike 3  |
      | look-alike 4  |
      | look-alike 5  |
      | look-alike 6  |
      | look-alike 7  |
      | look-alike 8  |
      | look-alike 9  |
      | look-alike 10 |
      | look-alike 11 |
      | look-alike 12 |
      | look-alike 13 |
      | look-alike 14 |
      | look-alike 15 |
      | look-alike 16 |
      | look-alike 17 |
      | look-alike 18 |

  @tls
  Scenario Outline: <look-alike> is intercepted with the proxy's CA
    Given "<look-alike>" serves a cacheable page
    When a client with the lab credentials requests that page over HTTPS
    Then the certificate the client saw was issued by the interception CA

    Examples:
      | look-alike    |
      | look-alike 1  |
      | look-alike 2  |
      | look-alike 3  |
      | look-alike 4  |
      | look-alike 5  |
      | look-alike 6  |
      | look-alike 7  |
      | look-alike 8  |
      | look-alike 9  |
      | look-alike 10 |
      | look-alike 11 |
      | look-alike 12 |
      | look-alike 13 |
      | look-alike 14 |
      | look-alike 15 |
      | look-alike 16 |
      | look-alike 17 |
      | look-alike 18 |

  @cache
  Scenario Outline: <look-alike> is cached like any other host
    Given "<look-alike>" serves a control object of each kind
    When a client with the lab credentials requests each of them over HTTP
    And the same client requests each of them again
    Then at least one of them came from the proxy's cache the second time

    Examples:
      | look-alike    |
      | look-alike 1  |
      | look-alike 2  |
      | look-alike 3  |
      | look-alike 4  |
      | look-alike 5  |
      | look-alike 6  |
      | look-alike 7  |
      | look-alike 8  |
      | look-alike 9  |
      | look-alike 10 |
      | look-alike 11 |
      | look-alike 12 |
      | look-alike 13 |
      | look-alike 14 |
      | look-alike 15 |
      | look-alike 16 |
      | look-alike 17 |
      | look-alike 18 |

  @icap
  Scenario Outline: <look-alike> is sent to ICAP like any other host
    Given "<look-alike>" serves a control object of each kind
    When a client with the lab credentials requests each of them over HTTP
    Then the ICAP service adapted at least one of them

    Examples:
      | look-alike    |
      | look-alike 1  |
      | look-alike 2  |
      | look-alike 3  |
      | look-alike 4  |
      | look-alike 5  |
      | look-alike 6  |
      | look-alike 7  |
      | look-alike 8  |
      | look-alike 9  |
      | look-alike 10 |
      | look-alike 11 |
      | look-alike 12 |
      | look-alike 13 |
      | look-alike 14 |
      | look-alike 15 |
      | look-alike 16 |
      | look-alike 17 |
      | look-alike 18 |

  @categorize
  Scenario Outline: <look-alike> is categorised like any other host
    Given "<look-alike>" serves a cacheable page
    When a client with the lab credentials requests that page over HTTPS
    Then the categorisation service was asked about that host

    Examples:
      | look-alike    |
      | look-alike 1  |
      | look-alike 2  |
      | look-alike 3  |
      | look-alike 4  |
      | look-alike 5  |
      | look-alike 6  |
      | look-alike 7  |
      | look-alike 8  |
      | look-alike 9  |
      | look-alike 10 |
      | look-alike 11 |
      | look-alike 12 |
      | look-alike 13 |
      | look-alike 14 |
      | look-alike 15 |
      | look-alike 16 |
      | look-alike 17 |
      | look-alike 18 |
