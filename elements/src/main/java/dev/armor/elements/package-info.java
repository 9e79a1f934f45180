/**
 * The ARMOR model: an ARMOR is a Pekko typed actor ({@link dev.armor.elements.ArmorActor}) hosting a list of
 * pluggable {@link dev.armor.elements.Element}s. Messages ({@code ArmorMessage}, Protocol Buffers) are addressed
 * by ARMOR id, carry bundles of operations and a payload; each operation is delivered, in bundle order, to the
 * elements subscribed to its type, and an element may rewrite the payload and push further operations onto the
 * bundle. Start with {@link dev.armor.elements.Element} and {@link dev.armor.elements.ArmorActor}; the wire
 * format is in {@code src/main/proto/armor/v1/armor.proto}.
 */
package dev.armor.elements;
