package dev.armor.systemtest.apps;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The gRPC service the gRPC test apps speak, described by hand (no generated code): {@code armor.test.Echo/Say}, a
 * unary call, and {@code armor.test.Echo/Count}, a server-streaming one; messages are UTF-8 strings.
 */
public final class GrpcEcho {

  public static final String SERVICE = "armor.test.Echo";

  /** A request {@code slow:MILLIS:TEXT} is answered after MILLIS ms; any other at once. */
  public static final MethodDescriptor<String, String> SAY = method("Say", MethodDescriptor.MethodType.UNARY);

  /** A request {@code N} is answered with N messages, 100 ms apart. */
  public static final MethodDescriptor<String, String> COUNT =
      method("Count", MethodDescriptor.MethodType.SERVER_STREAMING);

  private GrpcEcho() {}

  private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
    return MethodDescriptor.<String, String>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(Utf8.INSTANCE)
        .setResponseMarshaller(Utf8.INSTANCE)
        .build();
  }

  private enum Utf8 implements MethodDescriptor.Marshaller<String> {
    INSTANCE;

    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
