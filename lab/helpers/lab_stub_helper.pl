#!/usr/bin/perl
# lab_stub_helper: stands in, in the proxy-conformance lab, for a helper of a whole squid.conf
# that the lab cannot run (an external ACL, URL rewriter or Store-ID program of the admin's).
# It answers every lookup with its one argument: `ERR` (no match, no rewrite, no Store-ID) for
# a helper the lab cannot emulate — the harness then calls the properties whose rules use it
# inconclusive — or `OK` for a group lookup (the lab's one user belongs to every group). With
# `concurrency=N` Squid prefixes each line with a channel number, which the answer repeats.
use strict;
use warnings;
my $answer = shift @ARGV;
$answer = 'ERR' unless defined $answer && $answer eq 'OK';
$| = 1;
while (my $line = <STDIN>) {
    my ($channel) = $line =~ /\A(\d+) \S/;
    print defined $channel ? "$channel $answer\n" : "$answer\n";
}
