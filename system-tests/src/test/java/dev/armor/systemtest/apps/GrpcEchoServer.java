package dev.armor.systemtest.apps;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

/**
 * {@code GrpcEchoServer PORT}: an unmodified gRPC-Java server (its Netty transport, as an app builds it) serving
 * {@link GrpcEcho}: every answer names this process ({@code pid=P}). Prints {@code LISTENING pid=P} once bound.
 */
public final class GrpcEchoServer {

  public static void main(String[] args) throws Exception {
    long pid = ProcessHandle.current().pid();
    ServerServiceDefinition echo = ServerServiceDefinition.builder(GrpcEcho.SERVICE)
        .addMethod(GrpcEcho.SAY, ServerCalls.asyncUnaryCall((String request, StreamObserver<String> answer) -> {
          if (request.startsWith("slow:")) {
            String[] parts = request.split(":", 3);
            sleep(Long.parseLong(parts[1]));
            request = parts[2];
          }
          answer.onNext("pid=" + pid + " said=" + request);
          answer.onCompleted();
        }))
        .addMethod(GrpcEcho.COUNT, ServerCalls.asyncServerStreamingCall((String request, StreamObserver<String> out) -> {
          for (int i = 1; i <= Integer.parseInt(request); i++) {
            out.onNext("pid=" + pid + " i=" + i);
            sleep(100);
          }
          out.onCompleted();
        }))
        .build();
    Server server = ServerBuilder.forPort(Integer.parseInt(args[0])).addService(echo).build().start();
    System.out.println("LISTENING pid=" + pid);
    System.out.flush();
    server.awaitTermination();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
