/**
 * Tests of the demo audio streamer: pure logic (melody, pacing, continuity meter, WAV header) with made-up
 * times, then real servers and clients on loopback sockets, then the command-line mains in child JVMs.
 */
package dev.armor.demo.audio;
