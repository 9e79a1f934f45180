package dev.armor.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real gRPC server and clients over loopback TLS: who gets through, and what each refusal says. */
class MutualTlsTest {

  private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  };
  private static final MethodDescriptor<String, String> READ = method("Read");
  private static final MethodDescriptor<String, String> CHANGE = method("Change");

  @TempDir Path home;
  @TempDir Path strangerHome;
  private Pki pki;
  private Server server;

  @BeforeEach
  void startServer() throws IOException {
    pki = Pki.at(home);
    pki.initialize();
    server = serve(pki.credentials(Identity.node("ftm-test")));
  }

  @AfterEach
  void stop() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldLetEachRoleMakeItsOwnCallsAndTellTheServiceWhoCalled() throws IOException {
    assertThat(call(pki.credentials(Identity.OPERATOR).channelCredentials(), CHANGE)).isEqualTo("operator \"armor operator\"");
    assertThat(call(pki.credentials(Identity.READER).channelCredentials(), READ)).isEqualTo("reader \"armor reader\"");
    assertThat(call(pki.credentials(Identity.node("n1")).channelCredentials(), READ)).isEqualTo("node n1");
  }

  @Test
  void shouldRefuseACallTheRoleDoesNotAllowSayingWhichRoleItNeeds() {
    assertThatThrownBy(() -> call(pki.credentials(Identity.READER).channelCredentials(), CHANGE))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).isEqualTo(
              "Change needs the operator role; reader \"armor reader\" has the reader role");
        });
  }

  @Test
  void shouldRefuseAClientWithoutACertificateOfThisCluster() throws IOException {
    assertThatThrownBy(() -> call(InsecureChannelCredentials.create(), READ))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    Pki stranger = Pki.at(strangerHome);
    stranger.initialize();
    assertThatThrownBy(() -> call(stranger.credentials(Identity.OPERATOR).channelCredentials(), READ))
        .as("an operator certificate of another cluster")
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(server.isShutdown()).isFalse();
  }

  @Test
  void shouldNotTakeAServerWithoutANodeCertificateForTheControlApi() throws Exception {
    Server impostor = serve(pki.credentials(Identity.READER));
    try {
      ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", impostor.getPort(),
          pki.credentials(Identity.OPERATOR).channelCredentials()).build();
      try {
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, READ, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "?"))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      } finally {
        channel.shutdownNow();
      }
    } finally {
      impostor.shutdownNow();
    }
  }

  private Server serve(Credentials credentials) throws IOException {
    ServerServiceDefinition service = ServerServiceDefinition.builder("test.Control")
        .addMethod(READ, ServerCalls.asyncUnaryCall((request, reply) -> {
          reply.onNext(ControlAccess.caller().map(Identity::toString).orElse("nobody"));
          reply.onCompleted();
        }))
        .addMethod(CHANGE, ServerCalls.asyncUnaryCall((request, reply) -> {
          reply.onNext(ControlAccess.caller().map(Identity::toString).orElse("nobody"));
          reply.onCompleted();
        }))
        .build();
    ControlAccess access = new ControlAccess(Map.of(
        READ.getFullMethodName(), Set.of(Role.NODE, Role.OPERATOR, Role.READER),
        CHANGE.getFullMethodName(), Set.of(Role.OPERATOR)));
    return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials.serverCredentials())
        .addService(io.grpc.ServerInterceptors.intercept(service, access))
        .build()
        .start();
  }

  private String call(ChannelCredentials credentials, MethodDescriptor<String, String> method) {
    ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), credentials).build();
    try {
      return ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "?");
    } finally {
      channel.shutdownNow();
    }
  }

  private static MethodDescriptor<String, String> method(String name) {
    return MethodDescriptor.newBuilder(TEXT, TEXT).setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName("test.Control/" + name).build();
  }
}
