/**
 * How ARMOR messages cross between JVMs: a Pekko serializer that writes every command and wire message as
 * Protocol Buffers (no Java serialization anywhere). Bound in this module's {@code reference.conf}.
 */
package dev.armor.elements.serialization;
