package dev.armor.systemtest.apps;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;

/**
 * {@code SshCommandClient HOST PORT}: Apache MINA SSHD's client, with one session for its commands, as a pool keeps
 * one: a session found closed before a command is replaced by a new one, a command that fails is reported and its
 * session dropped. No command timeout (it waits as long as the server takes). Reads commands from stdin, one per
 * line, runs each on the session and prints {@code ANSWERED command output ms} or {@code ERROR command type=...
 * message=... ms}.
 */
public final class SshCommandClient {

  public static void main(String[] args) throws Exception {
    SshClient client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE); // the test's own server
    client.start();
    BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("READY");
    System.out.flush();
    ClientSession session = null;
    for (String command = commands.readLine(); command != null; command = commands.readLine()) {
      long start = System.nanoTime();
      try {
        if (session == null || !session.isOpen()) {
          session = client.connect("armor", args[0], Integer.parseInt(args[1])).verify(Duration.ofSeconds(30))
              .getSession();
          session.addPasswordIdentity(SlowSshServer.PASSWORD);
          session.auth().verify(Duration.ofSeconds(30));
        }
        String output = session.executeRemoteCommand(command);
        System.out.println("ANSWERED " + command + " " + output.strip() + " " + (System.nanoTime() - start) / 1_000_000);
      } catch (Exception e) {
        System.out.println("ERROR " + command + " type=" + e.getClass().getName() + " message="
            + String.valueOf(e.getMessage()).replace('\n', ' ') + " " + (System.nanoTime() - start) / 1_000_000);
        if (session != null) {
          session.close(true);
          session = null;
        }
      }
      System.out.flush();
    }
  }
}
