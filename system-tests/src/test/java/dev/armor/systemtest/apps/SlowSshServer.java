package dev.armor.systemtest.apps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

/**
 * {@code SlowSshServer PORT HOST_KEY}: Apache MINA SSHD's server, unmodified, a server that speaks first (its SSH
 * banner). Password {@value #PASSWORD} for any user; the host key is kept in {@code HOST_KEY}, so a restarted instance
 * shows the same one. Two commands: {@code fast} answers "fast" at once; {@code slow} prints {@code SLOW} and answers
 * "slow" after 3 s (a command still running when it is killed).
 */
public final class SlowSshServer {

  /** Every user's password. */
  public static final String PASSWORD = "armor-test";

  public static void main(String[] args) throws Exception {
    SshServer server = SshServer.setUpDefaultServer();
    server.setPort(Integer.parseInt(args[0]));
    server.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(Path.of(args[1])));
    server.setPasswordAuthenticator((user, password, session) -> PASSWORD.equals(password));
    server.setCommandFactory((channel, command) -> new Answer(command));
    server.start();
    System.out.println("LISTENING pid=" + ProcessHandle.current().pid());
    System.out.flush();
    Thread.currentThread().join();
  }

  /** Answers a command with its own name, at once or after 3 s; exit status 0. */
  private static final class Answer implements Command {
    private final String command;
    private OutputStream out;
    private ExitCallback exit;

    Answer(String command) {
      this.command = command;
    }

    @Override
    public void setInputStream(InputStream in) {}

    @Override
    public void setOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {}

    @Override
    public void setExitCallback(ExitCallback exit) {
      this.exit = exit;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
      Thread answer = new Thread(() -> {
        try {
          if (command.equals("slow")) {
            System.out.println("SLOW");
            System.out.flush();
            Thread.sleep(3000);
          }
          out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          exit.onExit(0);
        } catch (IOException | InterruptedException e) {
          exit.onExit(1, e.toString());
        }
      }, "answer " + command);
      answer.setDaemon(true);
      answer.start();
    }

    @Override
    public void destroy(ChannelSession channel) {}
  }
}
