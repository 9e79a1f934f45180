package dev.armor.systemtest.apps;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;

/**
 * {@code GrpcClient HOST PORT}: an unmodified gRPC-Java client on one channel with gRPC's defaults (no deadline, no
 * retry policy: only gRPC's own transparent retries). Reads commands from stdin, one per line: {@code SAY TEXT} (a
 * unary call) prints {@code OK ANSWER MS}; {@code COUNT N} (a server-streaming call) prints {@code MESSAGE ...} per
 * message, then {@code OK end MS}; a failed call prints {@code ERROR code=CODE description=... at=EPOCH_MS MS}. MS: since
 * the call began.
 */
public final class GrpcClient {

  public static void main(String[] args) throws Exception {
    ManagedChannel channel = ManagedChannelBuilder.forAddress(args[0], Integer.parseInt(args[1])).usePlaintext().build();
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("READY");
    System.out.flush();
    for (String command = commands.readLine(); command != null; command = commands.readLine()) {
      long start = System.nanoTime();
      try {
        if (command.startsWith("SAY ")) {
          String answer = ClientCalls.blockingUnaryCall(channel, GrpcEcho.SAY, io.grpc.CallOptions.DEFAULT,
              command.substring(4));
          System.out.println("OK " + answer + " " + millisSince(start));
        } else if (command.startsWith("COUNT ")) {
          Iterator<String> messages = ClientCalls.blockingServerStreamingCall(channel, GrpcEcho.COUNT,
              io.grpc.CallOptions.DEFAULT, command.substring(6));
          while (messages.hasNext()) {
            System.out.println("MESSAGE " + messages.next());
            System.out.flush();
          }
          System.out.println("OK end " + millisSince(start));
        }
      } catch (StatusRuntimeException e) {
        System.out.println("ERROR code=" + e.getStatus().getCode() + " description="
            + String.valueOf(e.getStatus().getDescription()).replace('\n', ' ') + " at=" + System.currentTimeMillis()
            + " " + millisSince(start));
      }
      System.out.flush();
    }
    channel.shutdownNow();
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
