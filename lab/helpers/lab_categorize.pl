#!/usr/bin/perl
# lab_categorize: the proxy-conformance lab's Squid external ACL helper (the lab owns it; a
# policy uses it with `acl NAME external lab_categorize`).
#
# Squid writes one lookup per line, `<destination host> <scenario header> <acl data>`, each
# token URL-escaped (`-` when absent). The helper asks the harness's categorisation service
#   GET /lookup?host=<host>&scenario=<scenario>
# at the address given as its only argument (host.docker.internal:<port>) and answers
#   OK   the service calls the host blocked (the ACL matches),
#   ERR  the service does not (the ACL does not match),
#   BH   no verdict within LIMIT seconds, or an unreadable one; the reason goes to cache.log.
# Every lookup has a hard time limit, so a stalled service can never hang Squid.
#
# With `--rewriter` first it stands in for a URL filter run as a URL rewriter (squidGuard,
# ufdbGuard) in a whole squid.conf: Squid writes `[channel] URL scenario` (the lab sets
# url_rewrite_extras to the scenario header) and it answers `OK status=302 url=…` (redirected
# to a block page on another host) for a blocked host, `ERR` (unchanged) otherwise.
use strict;
use warnings;
use IO::Socket::INET;

my $LIMIT   = 3;    # seconds for one whole lookup: connect, ask, read the verdict
my $rewriter = @ARGV && $ARGV[0] eq '--rewriter' ? shift @ARGV : undef;
my $service = shift @ARGV or die "usage: lab_categorize [--rewriter] HOST:PORT\n";
$| = 1;

while (my $line = <STDIN>) {
    $line =~ s/\r?\n\z//;
    if ($rewriter) {
        my $channel = $line =~ s/\A(\d+) // ? "$1 " : '';
        my ($url, $scenario) = split ' ', $line;
        my ($host) = ($url // '') =~ m{\A(?:[a-z]+://)?([^/:\s]+)}i;
        my $answer = eval { ask($host, $scenario) };
        alarm 0;
        if (!defined $answer) {
            print STDERR "lab_categorize: no verdict for '$line': " . ($@ || "no verdict\n");
            $answer = 'BH';
        }
        $answer = 'OK status=302 url="http://blocked.proxy-conformance.invalid/"' if $answer eq 'OK';
        print "$channel$answer\n";
        next;
    }
    my ($host, $scenario) = split ' ', $line;
    my $answer = eval { ask($host, $scenario) };
    alarm 0;
    if (!defined $answer) {
        my $why = $@ || "no verdict\n";
        print STDERR "lab_categorize: no verdict for '$line': $why";
        $answer = 'BH';
    }
    print "$answer\n";
}

sub ask {
    my ($host, $scenario) = @_;
    # Squid URL-escapes the tokens; anything else is not a lookup this helper understands.
    my $token = qr/\A[A-Za-z0-9._~%:\[\]-]+\z/;
    die "malformed host\n" unless defined $host && $host =~ $token;
    $scenario = '-' unless defined $scenario && $scenario =~ $token;
    local $SIG{ALRM} = sub { die "no answer from $service within ${LIMIT}s\n" };
    alarm $LIMIT;
    my $socket = IO::Socket::INET->new(PeerAddr => $service, Proto => 'tcp', Timeout => $LIMIT)
        or die "cannot connect to $service: $@\n";
    print {$socket} "GET /lookup?host=$host&scenario=$scenario HTTP/1.0\r\n"
        . "Host: $service\r\nConnection: close\r\n\r\n";
    my $reply = do { local $/; <$socket> };
    alarm 0;
    close $socket;
    die "empty reply from $service\n" unless defined $reply && length $reply;
    my ($status) = $reply =~ m{\AHTTP/1\.[01] (\d{3})};
    die "status " . ($status // 'unreadable') . " from $service\n"
        unless defined $status && $status eq '200';
    my ($body) = $reply =~ m{\r\n\r\n(.*)\z}s;
    $body //= '';
    return 'OK'  if $body =~ /\Ablocked\b/;
    return 'ERR' if $body =~ /\Aallowed\b/;
    die "unknown verdict '$body' from $service\n";
}
