package dev.patchloop.testnode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.index.mapper.MapperExtrasPlugin;
import org.opensearch.index.reindex.ReindexPlugin;
import org.opensearch.ingest.common.IngestCommonPlugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts one OpenSearch node in this JVM, bound to 127.0.0.1, for integration tests.
 *
 * <p>Usage: {@code Main <home-dir> <http-port> [setting=value ...]}; the extra node settings
 * let a test run a node with, say, a small {@code http.max_content_length}. Index data lives in {@code <home-dir>/data}
 * and survives a restart with the same home, which is what the tests' restart scenario
 * relies on. The node runs until the JVM receives SIGTERM/SIGINT; the shutdown hook closes
 * it cleanly so nothing acknowledged is lost.
 *
 * <p>The bootstrap used by the OpenSearch distribution (security manager, jar-hell and
 * production checks) is skipped on purpose: modules come from the classpath, not from a
 * {@code modules/} directory, and the node only ever listens on loopback.
 */
public final class Main {
    private static final String NODE_NAME = "patchloop-test-node";

    /** Modules the exporter needs; each is an ordinary Maven Central jar on the classpath. */
    private static final List<Class<? extends Plugin>> MODULES = List.of(
        Netty4Plugin.class,
        ReindexPlugin.class,
        PainlessPlugin.class,
        MapperExtrasPlugin.class,
        CommonAnalysisPlugin.class,
        IngestCommonPlugin.class
    );

    /** Node subclass only to reach the protected constructor that accepts classpath plugins. */
    private static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }

        @Override
        protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {
            // The distribution wires node/cluster ids into its log4j pattern; console logging
            // here has no such converter, so registering the listener would only fail.
        }
    }

    private static final String LOG_CONFIG = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        // Deprecation warnings for APIs the tests use on purpose are noise here.
        "logger.deprecation.name = org.opensearch.deprecation",
        "logger.deprecation.level = error",
        "");

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Main <home-dir> <http-port> [setting=value ...]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int httpPort;
        try {
            httpPort = Integer.parseInt(args[1]);
        } catch (NumberFormatException e) {
            System.err.println("http port is not a number: " + args[1]);
            System.exit(2);
            return;
        }
        for (String dir : List.of("config", "data", "logs", "plugins", "modules")) {
            Files.createDirectories(home.resolve(dir));
        }

        Settings.Builder extra = Settings.builder();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("node setting is not setting=value: " + args[i]);
                System.exit(2);
            }
            extra.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "patchloop-test")
            .put("node.name", NODE_NAME)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            // A test machine's disk may be fuller than production watermarks allow; the node
            // must not turn indices read-only under the tests.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Containers often keep vm.max_map_count low; NIO file access avoids that limit.
            .put("node.store.allow_mmap", false)
            .put(extra.build())
            .build();

        // Without a log4j2.properties OpenSearch logs errors only; INFO lines on stdout (which
        // scripts/opensearch-node sends to its log file) make a failed start diagnosable.
        Files.writeString(home.resolve("config").resolve("log4j2.properties"), LOG_CONFIG);
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings, Map.of(), home.resolve("config"), () -> NODE_NAME);
        LogConfigurator.setNodeName(NODE_NAME);
        LogConfigurator.configure(environment);

        Node node = new EmbeddedNode(environment, MODULES);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (IOException e) {
                System.err.println("closing the node failed: " + e);
            } finally {
                stopped.countDown();
            }
        }, "patchloop-test-node-shutdown"));

        try {
            node.start();
        } catch (Exception e) {
            e.printStackTrace();
            // Last, so the tail of the log that scripts/opensearch-node shows names the cause.
            StringBuilder causes = new StringBuilder();
            for (Throwable t = e; t != null; t = t.getCause()) {
                causes.append(causes.length() == 0 ? "" : " <- ").append(t);
            }
            System.err.println("OpenSearch test node failed to start: " + causes);
            System.err.flush();
            Runtime.getRuntime().halt(1);
        }
        int boundPort = node.injector().getInstance(HttpServerTransport.class)
            .boundAddress().publishAddress().getPort();
        // scripts/opensearch-node reads this line to confirm which port is serving.
        System.out.println("PATCHLOOP_TEST_NODE_HTTP_PORT=" + boundPort);
        System.out.flush();
        stopped.await();
    }
}
