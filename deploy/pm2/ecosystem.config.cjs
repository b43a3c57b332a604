// pm2 start deploy/pm2/ecosystem.config.cjs: 4 instances of the app in PM2 cluster mode, sharing port 3000; instance k
// serves its own metrics on 127.0.0.1:(9464 + k) through instancePort(9464).
module.exports = {
  apps: [
    {
      name: 'shop',
      script: './dist/main.js', // your app
      exec_mode: 'cluster',
      instances: 4,
      instance_var: 'NODE_APP_INSTANCE', // PM2's default; instancePort() reads it
      env: { PORT: '3000', METRICS_PORT_BASE: '9464', OTEL_SERVICE_NAME: 'shop' },
    },
  ],
};
