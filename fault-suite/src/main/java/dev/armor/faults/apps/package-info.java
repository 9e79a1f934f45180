/**
 * The fault suite's traffic: a plain multi-threaded echo server and a client that streams numbered records through
 * it and checks every echo. Plain socket code that knows nothing of Armor, run protected (under an Execution
 * ARMOR) or wrapped (the shim on a hand-started JVM).
 */
package dev.armor.faults.apps;
