/**
 * The fault suite ({@code armor faults}): builds a real Armor cluster whose nodes are network namespaces, runs a
 * protected server with a protected and a wrapped client under steady traffic, injects every kind of single failure
 * repeatedly at random moments, and reports per fault the detection time, the recovery time, and what the clients
 * saw (errors, bytes lost or duplicated).
 */
package dev.armor.faults;
