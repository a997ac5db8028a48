FROM ubuntu:24.04
RUN DEBIAN_FRONTEND=noninteractive apt-get install -y curl=8.5.0-2ubuntu10 ; yarn add express@4.21.1
