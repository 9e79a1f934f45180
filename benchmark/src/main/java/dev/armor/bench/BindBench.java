package dev.armor.bench;

import java.io.IOException;
import java.net.ServerSocket;

/**
 * Times {@code new ServerSocket(port)} (a wildcard bind, as an unmodified server does) for COUNT distinct ports
 * from FIRST_PORT on, closing each right after. Under the shim that call also registers the service with the
 * FTM and returns when the FTM answered. The first {@code WARMUP} binds (class loading, first contact with the
 * daemon) are reported apart.
 *
 * <p>Usage: {@code BindBench FIRST_PORT COUNT WARMUP}; prints {@code R bind.us <micros>} per measured bind.
 */
public final class BindBench {

  private BindBench() {}

  public static void main(String[] args) throws IOException {
    int first = Integer.parseInt(args[0]);
    int count = Integer.parseInt(args[1]);
    int warmup = Integer.parseInt(args[2]);
    for (int i = 0; i < warmup + count; i++) {
      long t0 = System.nanoTime();
      ServerSocket server = new ServerSocket(first + i);
      long t1 = System.nanoTime();
      server.close();
      System.out.println((i < warmup ? "W bind.us " : "S bind.us ") + (t1 - t0) / 1000.0);
    }
    System.out.println("DONE");
  }
}
