package dev.armor.cli;

import dev.armor.security.Credentials;
import dev.armor.security.Identity;
import dev.armor.security.Pki;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "enrol",
    description = {"Issue a certificate of this cluster, on the host that holds its CA (where the first FTM started).",
        "Into another directory for another host (copy its pki/ into that host's $ARMOR_HOME), or into this host's",
        "$ARMOR_HOME to rotate one: a new key and certificate; the cluster transport takes it up within a minute."})
final class EnrolCommand implements Callable<Integer> {

  static final class Who {
    @Option(names = "--node", paramLabel = "NAME", description = "A node (a daemon started with --node NAME).")
    String node;

    @Option(names = "--operator", description = "The operator: launch, stop, status.")
    boolean operator;

    @Option(names = "--reader", description = "A read-only viewer: status.")
    boolean reader;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Who who;

  @Option(names = "--ftm-capable",
      description = "With --node: also the cluster's tables key, which a node started with --ftm-capable needs (the FTM"
          + " opens the launch environments it keeps in the replicated tables with it). Give it to no other node.")
  boolean ftmCapable;

  @Option(names = "--out", paramLabel = "DIR", required = true,
      description = "Where to write pki/ (the CA certificate and the new identity; never the CA key).")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (ftmCapable && who.node == null) {
      throw new IllegalArgumentException("--ftm-capable goes with --node NAME: only a node may host the FTM");
    }
    Identity identity = who.node != null ? Identity.node(who.node) : who.operator ? Identity.OPERATOR : Identity.READER;
    Pki here = Pki.at(ArmorHome.resolve().root());
    Pki into = Pki.at(out);
    Credentials issued = here.enrol(identity, into);
    if (ftmCapable) {
      here.enrolTablesKey(into);
    }
    System.out.println("issued a certificate for " + identity + ": " + issued.certificate() + " (key " + issued.key()
        + ", 0600)" + (ftmCapable ? ", and the cluster's tables key" : "")
        + (into.root().equals(here.root()) ? "" : "; copy " + into.root() + " into the other host's $ARMOR_HOME"));
    return 0;
  }
}
