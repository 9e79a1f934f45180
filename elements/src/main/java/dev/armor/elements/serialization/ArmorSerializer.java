package dev.armor.elements.serialization;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.armor.elements.ArmorActor;
import dev.armor.elements.wire.ArmorMessage;
import dev.armor.elements.wire.DeliverEnvelope;
import java.io.NotSerializableException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Serializes {@link ArmorActor.Deliver} as a {@link DeliverEnvelope} (the reply-to reference as Pekko's string
 * form) and any generated protobuf message of {@code dev.armor.elements.wire} by its class name.
 */
public final class ArmorSerializer extends SerializerWithStringManifest {

  private static final String DELIVER = "D";

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;
  private final ConcurrentHashMap<String, Method> parsers = new ConcurrentHashMap<>();

  public ArmorSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return 0x41524d; // "ARM"
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof ArmorActor.Deliver) {
      return DELIVER;
    }
    return o.getClass().getName();
  }

  @Override
  public byte[] toBinary(Object o) {
    if (o instanceof ArmorActor.Deliver deliver) {
      DeliverEnvelope.Builder envelope = DeliverEnvelope.newBuilder().setMessage(deliver.message());
      if (deliver.replyTo() != null) {
        envelope.setReplyTo(resolver().toSerializationFormat(deliver.replyTo()));
      }
      return envelope.build().toByteArray();
    }
    if (o instanceof Message message) {
      return message.toByteArray();
    }
    throw new IllegalArgumentException("ArmorSerializer cannot serialize " + o.getClass().getName());
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    try {
      if (DELIVER.equals(manifest)) {
        DeliverEnvelope envelope = DeliverEnvelope.parseFrom(bytes);
        ActorRef<ArmorMessage> replyTo =
            envelope.getReplyTo().isEmpty() ? null : resolver().resolveActorRef(envelope.getReplyTo());
        return new ArmorActor.Deliver(envelope.getMessage(), replyTo);
      }
      return parser(manifest).invoke(null, (Object) bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new NotSerializableException("malformed " + manifest + ": " + e.getMessage());
    } catch (InvocationTargetException e) {
      throw new NotSerializableException("malformed " + manifest + ": " + e.getCause().getMessage());
    } catch (ReflectiveOperationException e) {
      throw new NotSerializableException("unknown message type " + manifest + ": " + e);
    } catch (IllegalArgumentException e) {
      // parser(): a manifest outside dev.armor, or no such message. Pekko expects NotSerializableException for a
      // manifest it cannot read (a newer node's message type), not a failure of the serializer.
      throw new NotSerializableException(e.getMessage());
    }
  }

  private Method parser(String className) {
    return parsers.computeIfAbsent(
        className,
        name -> {
          // Only generated protobuf messages of the wire packages: a manifest never makes us load other classes.
          if (!name.startsWith("dev.armor.elements.wire.") && !name.startsWith("dev.armor.elements.control.")) {
            throw new IllegalArgumentException("refusing to deserialize " + name);
          }
          try {
            Class<?> type = Class.forName(name, false, system.dynamicAccess().classLoader());
            if (!Message.class.isAssignableFrom(type)) {
              throw new IllegalArgumentException("refusing to deserialize " + name + ": not a protobuf message");
            }
            return type.getMethod("parseFrom", byte[].class);
          } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("unknown message type " + name, e);
          }
        });
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }
}
